// Forms that never lose what was typed, and say on the form why they were refused.
//
// A POST form is sent in the background (header X-MFG-Form). The server answers a success with
// {"location": …}, where the browser then goes (the flash message shows there), and a refusal
// with {"error": {code, message, details}}: the message is shown on the form, beside the field
// it names (details.field, or each details.fields[].field), which gets the focus; nothing typed
// is cleared except a password that was refused. Without script, or for a form marked
// data-native (downloads, pages rendered in place), the browser posts as usual and a refusal is
// the error page, whose "Back to the form" returns to the form as it was filled: for that case
// the form's values are kept in this tab's sessionStorage before it is sent.
//
// Signature dialogs: a button with data-open-dialog="ID" opens the dialog ID with the focus in
// its password field; data-close-dialog closes the dialog it is in.
(function () {
  "use strict";
  const KEY = "mfg-form";
  const SKIPPED = new Set(["password", "hidden", "file", "submit", "button"]);

  function read() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }

  function keep(form) {
    const fields = [];
    for (const el of form.elements) {
      if (!el.name || SKIPPED.has(el.type)) continue;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
      fields.push([el.name, el.type, el.value]);
    }
    const entry = { path: location.pathname + location.search, action: form.getAttribute("action"), fields: fields, refused: false };
    try { sessionStorage.setItem(KEY, JSON.stringify(entry)); } catch (e) { /* storage full or off */ }
  }

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

  function clearErrors(form) {
    for (const el of form.querySelectorAll(".form-error, .field-error")) el.remove();
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function note(cls, text) {
    const p = document.createElement("p");
    p.className = cls;
    p.setAttribute("role", "alert");
    p.textContent = text;
    return p;
  }

  function fieldOf(form, name) {
    if (!name) return null;
    const last = String(name).split(".").pop();
    return form.elements.namedItem(name) || form.elements.namedItem(last);
  }

  function showRefusal(form, error) {
    clearErrors(form);
    const details = error.details || {};
    const named = [];
    if (details.field) named.push([details.field, error.message]);
    for (const f of details.fields || []) named.push([f.field, f.message]);
    let first = null;
    const general = [];
    for (const [name, message] of named) {
      let el = fieldOf(form, name);
      if (el && el.length !== undefined && !el.tagName) el = el[0];  // radio group
      if (!el || el.type === "hidden") { general.push(message); continue; }
      el.setAttribute("aria-invalid", "true");
      (el.closest("label") || el).after(note("field-error", message));
      first = first || el;
    }
    const box = document.createElement("div");
    box.className = "form-error";
    box.setAttribute("role", "alert");
    box.dataset.code = error.code;
    const head = document.createElement("strong");
    head.textContent = named.length && !general.length && first ? "Please correct the field marked below." : error.message;
    box.appendChild(head);
    const reasons = (details.reasons || []).filter((r) => r !== error.message);
    if (reasons.length > 1 || (reasons.length === 1 && !first)) {
      const ul = document.createElement("ul");
      for (const r of reasons) { const li = document.createElement("li"); li.textContent = r; ul.appendChild(li); }
      box.appendChild(ul);
    }
    form.prepend(box);
    const password = form.querySelector('input[type="password"]');
    if (error.code === "signature_refused" || error.code === "invalid_credentials") {
      if (password) { password.value = ""; password.setAttribute("aria-invalid", "true"); first = password; }
    }
    (first || password || box).focus && (first || password || box).focus();
    if (!first) box.scrollIntoView({ block: "nearest" });
  }

  async function submitInline(form, submitter) {
    const buttons = form.querySelectorAll("button, input[type=submit]");
    for (const b of buttons) b.disabled = true;  // one submission at a time
    let response;
    try {
      const body = new FormData(form, submitter || undefined);
      // getAttribute: a field named "action" (an adverse event's action taken) shadows form.action
      const target = new URL(form.getAttribute("action") || location.href, location.href);
      response = await fetch(target, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-MFG-Form": "1", "Accept": "application/json" },
      });
    } catch (e) {
      for (const b of buttons) b.disabled = false;
      showRefusal(form, { code: "network", message: "The server could not be reached; nothing was saved. Try again." });
      return;
    }
    for (const b of buttons) b.disabled = false;
    const type = response.headers.get("content-type") || "";
    if (!type.includes("application/json")) { keep(form); HTMLFormElement.prototype.submit.call(form); return; }
    const answer = await response.json();
    if (answer.location) { sessionStorage.removeItem(KEY); location.assign(answer.location); return; }
    if (answer.error && response.status === 401) {
      location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search) + "&reason=" + answer.error.code);
      return;
    }
    if (answer.error) showRefusal(form, answer.error);
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (form.hasAttribute("data-native") || !window.fetch) { keep(form); return; }
    event.preventDefault();
    submitInline(form, event.submitter);
  });

  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog) {
        dialog.showModal();
        const password = dialog.querySelector("[data-sign-password], input[type=password]");
        if (password) password.focus();
      }
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

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
