// The global scan field. A keyboard-wedge scanner types key by key wherever the focus is, so:
// 1. the focus stays in the scan field unless the user is deliberately typing elsewhere;
// 2. keys are read by their position (KeyboardEvent.code) and turned into the US-layout
//    character, so a scan made while a Russian (ЙЦУКЕН) layout is active still sends "=A9999…";
// 3. Enter resolves the code with GET /api/scan and goes to the record, or shows why not in
//    place, clears the field and keeps the focus for the next scan.
(function () {
  "use strict";
  const SHIFTED = {
    Digit1: "!", Digit2: "@", Digit3: "#", Digit4: "$", Digit5: "%", Digit6: "^", Digit7: "&",
    Digit8: "*", Digit9: "(", Digit0: ")", Minus: "_", Equal: "+", BracketLeft: "{",
    BracketRight: "}", Backslash: "|", Semicolon: ":", Quote: '"', Comma: "<", Period: ">",
    Slash: "?", Backquote: "~", Space: " ",
  };
  const PLAIN = {
    Minus: "-", Equal: "=", BracketLeft: "[", BracketRight: "]", Backslash: "\\", Semicolon: ";",
    Quote: "'", Comma: ",", Period: ".", Slash: "/", Backquote: "`", Space: " ",
  };

  // The US-layout character of a physical key. Letters take their case from the character the
  // active layout produced (or from Shift and Caps Lock when that tells nothing).
  function usCharacter(code, shift, key) {
    if (code.startsWith("Key") && code.length === 4) {
      const letter = code.slice(3);
      if (key && key.toUpperCase() !== key.toLowerCase()) {
        return key === key.toUpperCase() ? letter : letter.toLowerCase();
      }
      return shift ? letter : letter.toLowerCase();
    }
    if (code.startsWith("Digit")) return shift ? SHIFTED[code] : code.slice(5);
    return (shift ? SHIFTED : PLAIN)[code] || null;
  }

  const isAscii = (text) => /^[\x20-\x7e]$/.test(text);

  // Keys typed into the scan field since it was last empty, with the physical key of each. Once
  // a key arrives that only a non-Latin layout makes (Cyrillic), the whole scan is re-read from
  // the physical keys: under ЙЦУКЕН, "&>" arrives as "?Ю" and the "?" must become "&" too.
  // Kept per field: the global scan field, and any page field marked data-scan.
  function keyState(input) {
    if (!input._mfgKeys) input._mfgKeys = { typed: [], foreign: false };
    return input._mfgKeys;
  }

  function rewriteFromKeys(input) {
    input.value = keyState(input).typed.map((k) => usCharacter(k.code, k.shift, k.key) || k.key).join("");
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function scanInput() { return document.querySelector("[data-global-scan]"); }
  function isEditable(el) {
    if (!el || el === document.body) return false;
    const tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  // A page's own scan field (data-scan autofocus, e.g. receipt by tube) takes the focus first.
  function primaryScan() { return document.querySelector("[data-scan][autofocus]") || scanInput(); }
  function refocus() {
    const input = primaryScan();
    if (input && !isEditable(document.activeElement) && !document.querySelector("dialog[open]")) {
      input.focus();
    }
  }

  function showMessage(text) {
    const box = document.getElementById("scan-message");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function onKeydown(event) {
    const input = event.target;
    const state = keyState(input);
    if (!input.value) { state.typed = []; state.foreign = false; }
    let typed = state.typed;
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    if (!event.key || event.key.length !== 1 || !event.code) return; // Enter, Tab, arrows, …
    if (typed.length !== input.value.length || input.selectionStart !== input.value.length) {
      typed = state.typed = []; // edited by hand in the middle: no key record to trust
    }
    typed.push({ code: event.code, shift: event.shiftKey, key: event.key });
    if (!isAscii(event.key) && !state.foreign && typed.length === input.value.length + 1) {
      state.foreign = true;
    }
    if (!state.foreign) return; // a Latin layout: the browser's own character is right
    const character = usCharacter(event.code, event.shiftKey, event.key);
    if (!character) return;
    event.preventDefault();
    if (typed.length === input.value.length + 1) {
      rewriteFromKeys(input);
    } else {
      input.setRangeText(character, input.selectionStart, input.selectionEnd, "end");
    }
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async function onSubmit(event) {
    const input = scanInput();
    const code = input.value;
    if (!code.trim() || !window.fetch) return; // let the browser submit to /scan
    event.preventDefault();
    let response;
    try {
      response = await fetch("/api/scan?code=" + encodeURIComponent(code), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
    } catch (err) {
      event.target.submit();
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (response.ok && body.url) {
      window.location.assign(body.url);
      return;
    }
    const error = body.error || {};
    showMessage((error.message || "The code could not be resolved.") + "  [" + code + "]");
    input.value = "";
    input._mfgKeys = null;
    input.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    const input = scanInput();
    if (!input) return;
    document.querySelectorAll("[data-global-scan], [data-scan]").forEach(function (field) {
      field.addEventListener("keydown", onKeydown);
    });
    input.form.addEventListener("submit", onSubmit);
    input.addEventListener("input", function () { if (input.value) showMessage(""); });
    const primary = primaryScan();
    if (primary !== input || !isEditable(document.activeElement)) primary.focus();
    // A click on plain page content (not a control) gives the focus back to the scan field.
    document.addEventListener("click", function (event) {
      if (!event.target.closest("a, button, input, select, textarea, label, [tabindex], dialog")) {
        refocus();
      }
    });
    window.addEventListener("focus", refocus);
  });
})();
