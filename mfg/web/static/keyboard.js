// Password fields say when the active keyboard layout is not Latin. At the bench the layout is
// often Russian or Belarusian: a password typed in Cyrillic is refused, and every refusal counts
// towards locking the account. A password field cannot show what was typed, so it says so next
// to the field, from the first letter, and stops saying so once a Latin letter is typed.
(function () {
  "use strict";
  const LETTER = /^\p{L}$/u;
  const LATIN = /^[A-Za-z]$/;

  function noticeFor(input) {
    if (!input._mfgLayout) {
      const notice = document.createElement("span");
      notice.className = "layout-warning";
      notice.setAttribute("role", "status");
      notice.hidden = true;
      notice.textContent =
        "The keyboard layout is not Latin: this password is being typed in another alphabet. " +
        "If your password is in Latin letters, switch the layout (e.g. Alt+Shift), clear the " +
        "field and type it again.";
      input.insertAdjacentElement("afterend", notice);
      input._mfgLayout = notice;
    }
    return input._mfgLayout;
  }

  document.addEventListener(
    "keydown",
    function (event) {
      const input = event.target;
      if (!(input instanceof HTMLInputElement) || input.type !== "password") return;
      if (!event.key || !LETTER.test(event.key)) return; // digits and signs tell nothing
      noticeFor(input).hidden = LATIN.test(event.key);
    },
    true,
  );
})();
