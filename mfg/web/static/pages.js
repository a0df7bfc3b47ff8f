// The small behaviours of single pages, kept out of the templates so that the
// Content-Security-Policy can refuse every inline script (script-src 'self'). Each one is
// switched on by a data attribute or an id in the page; on other pages it does nothing.
(function () {
  "use strict";
  // As typed: 12,5 (a Russian keyboard's decimal comma) or 12.5; 4 000 000 grouped
  const typed = (value) => Number(String(value).replace(/[\s\u00a0\u202f']/g, "").replace(",", "."));

  // A status filter (<select data-autosubmit>) shows its list as soon as it is changed.
  document.addEventListener("change", function (event) {
    const select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // The error page's "Back to the form": back in history, where the form keeps what was typed;
  // without history (a new tab), the link opens the form afresh.
  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("a[data-history-back]");
    if (link && history.length > 1) { event.preventDefault(); history.back(); }
  });

  // Bedside: a scanner ends each read with Enter; the wristband's Enter moves to the dose field.
  function bedside() {
    const wristband = document.getElementById("wristband");
    const dose = document.getElementById("dose-label");
    if (!wristband || !dose || !document.getElementById("bedside-form")) return;
    wristband.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); dose.focus(); }
    });
  }

  // QC sample: the chosen test sets its unit, its readings (the one due next selected, never
  // "final" by default), its allowed values, and the per-kg fields.
  function qcResultForm() {
    const test = document.getElementById("result-test");
    if (!test) return;
    function update() {
      const o = test.selectedOptions[0];
      if (!o) return;
      document.getElementById("result-unit").value = o.dataset.unit;
      const readings = document.getElementById("result-reading");
      readings.replaceChildren(...o.dataset.readings.split("|").filter(Boolean).map((r) => new Option(r, r)));
      readings.value = o.dataset.next;
      document.getElementById("result-choices").replaceChildren(...o.dataset.choices.split("|").filter(Boolean).map((c) => new Option(c, c)));
      document.getElementById("per-kg").hidden = !o.dataset.perKg;
      if (o.dataset.perKg) document.getElementById("result-unit").value = o.dataset.perKg;
    }
    test.addEventListener("change", update);
    update();
  }

  // Culture passage: show the computed figures before the operator signs (the server computes
  // and stores them).
  function culturePassage() {
    const form = document.getElementById("passage-form");
    if (!form) return;
    const seeded = Number(form.dataset.seeded) || null;
    const seededAt = new Date(form.dataset.seededAt);
    const minViability = Number(form.dataset.minViability);
    form.addEventListener("input", function () {
      const harvested = typed(document.getElementById("harvested").value);
      const viability = typed(document.getElementById("viability").value);
      const out = document.getElementById("growth-preview");
      if (!harvested) return;
      let text = seeded ? "Population doublings: " + Math.log2(harvested / seeded).toFixed(2) : "Explant: no PD";
      const hours = (Date.now() - seededAt.getTime()) / 3600000;
      if (seeded && harvested > seeded) {
        text += " · doubling time ≈ " + (hours * Math.LN2 / Math.log(harvested / seeded)).toFixed(1) + " h";
      }
      if (viability && viability < minViability) text += " · VIABILITY BELOW SPECIFICATION: deviation note required";
      out.textContent = text;
    });
  }

  // Lot passage and harvest (forms .growth-form with the lot's figures in data attributes):
  // show the computed figures before the operator signs (the server computes and stores them).
  function lotGrowth() {
    document.querySelectorAll("form.growth-form").forEach(function (form) {
      const d = form.dataset;
      const seeded = Number(d.seeded), cpd = Number(d.cpd), passage = Number(d.passage);
      const seededAt = new Date(d.seededAt);
      const minViability = Number(d.minViability), maxCpd = Number(d.maxCpd), maxPassage = Number(d.maxPassage);
      const field = (role) => form.querySelector('[data-role="' + role + '"]');
      form.addEventListener("input", function () {
        const harvested = typed(field("harvested").value);
        if (!harvested || !seeded) return;
        const pd = Math.log2(harvested / seeded);
        let text = "Population doublings: " + pd.toFixed(2) + " · cumulative PD: " + (cpd + pd).toFixed(2);
        const hours = (Date.now() - seededAt.getTime()) / 3600000;
        if (harvested > seeded) text += " · doubling time ≈ " + (hours * Math.LN2 / Math.log(harvested / seeded)).toFixed(1) + " h";
        const volume = field("volume") && typed(field("volume").value);
        if (volume) text += " · concentration: " + Math.round(harvested / volume).toLocaleString("en") + " cells/mL";
        if (field("volume") && (cpd + pd > maxCpd || passage > maxPassage)) text += " · BEYOND THE HARVEST LIMITS: will be refused";
        const viability = typed(field("viability").value);
        if (viability && viability < minViability) text += " · VIABILITY BELOW SPECIFICATION: deviation note required";
        field("preview").textContent = text;
      });
    });
  }

  // Lot fill: the doses, cells and volume the fill will make, before the operator signs.
  function lotFill() {
    const fill = document.getElementById("fill-form");
    if (!fill) return;
    fill.addEventListener("input", function () {
      const count = typed(document.getElementById("fill-count").value);
      const volume = typed(document.getElementById("fill-volume").value);
      if (!count || !volume) return;
      const cells = Math.round(Number(fill.dataset.concentration) * volume);
      let text = count + " doses × " + cells.toLocaleString("en") + " cells in " + volume + " mL; " + (count * volume) + " of " + fill.dataset.volume + " mL";
      if (count * volume > Number(fill.dataset.volume)) text += " · MORE THAN THE FORMULATED VOLUME: will be refused";
      document.getElementById("fill-preview").textContent = text;
    });
  }

  function start() { bedside(); qcResultForm(); culturePassage(); lotGrowth(); lotFill(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
