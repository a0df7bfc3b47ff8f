// Nothing typed is lost when the server refuses a form. Before a form is sent, what it holds
// (passwords and hidden fields aside) is kept in this tab's sessionStorage. If the answer is
// the error page, the entry is marked refused; going "Back to the form" fills the form again
// from it. The browser restores most fields by itself, but not those marked autocomplete="off"
// (scan and username fields), nor after the page was reloaded. Any other answer drops it.
(function () {
  "use strict";
  const KEY = "mfg-form";
  const SKIPPED = new Set(["password", "hidden", "file", "submit", "button"]);

  function read() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    const fields = [];
    for (const el of form.elements) {
      if (!el.name || SKIPPED.has(el.type)) continue;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
      fields.push([el.name, el.type, el.value]);
    }
    const entry = { path: location.pathname + location.search, action: form.getAttribute("action"), fields: fields, refused: false };
    try { sessionStorage.setItem(KEY, JSON.stringify(entry)); } catch (e) { /* storage full or off */ }
  }, true);

  function restore(entry) {
    const form = Array.from(document.forms).find((f) => f.getAttribute("action") === entry.action);
    if (!form) return;
    for (const [name, type, value] of entry.fields) {
      for (const el of form.elements) {
        if (el.name !== name) continue;
        if (type === "checkbox" || type === "radio") {
          if (el.value === value) el.checked = true;
        } else if (el.value === "" || el.value === el.defaultValue) {
          el.value = value;
        }
      }
    }
  }

  window.addEventListener("pageshow", function () {
    const entry = read();
    if (!entry) return;
    if (document.querySelector("[data-form-refused]")) {
      entry.refused = true;
      sessionStorage.setItem(KEY, JSON.stringify(entry));
      return;
    }
    sessionStorage.removeItem(KEY);
    if (entry.refused && entry.path === location.pathname + location.search) restore(entry);
  });
})();
