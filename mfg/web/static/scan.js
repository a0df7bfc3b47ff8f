// The global scan field keeps the focus: a keyboard-wedge scanner types wherever the focus is, so
// the focus must be in the scan field unless the user is deliberately typing into another field.
(function () {
  "use strict";
  function scanInput() { return document.querySelector("[data-global-scan]"); }
  function isEditable(el) {
    if (!el || el === document.body) return false;
    const tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function refocus() {
    const input = scanInput();
    if (input && !isEditable(document.activeElement) && !document.querySelector("dialog[open]")) {
      input.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    const input = scanInput();
    if (!input) return;
    if (!isEditable(document.activeElement)) input.focus();
    // A click on plain page content (not a control) gives the focus back to the scan field.
    document.addEventListener("click", function (event) {
      if (!event.target.closest("a, button, input, select, textarea, label, [tabindex]")) refocus();
    });
    window.addEventListener("focus", refocus);
  });
})();
