"""The message catalogs: every marked message is in the template, Russian has no message left
untranslated or fuzzy, the compiled catalogs shipped are those of the sources, and Belarusian is
set up so that adding it is translation work only."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from babel.messages.pofile import read_po

from mfg.i18n import LANGUAGES, catalogs


def test_the_template_holds_every_message_the_sources_mark(tmp_path: Path, monkeypatch) -> None:
    shipped = catalogs.TEMPLATE.read_bytes()
    fresh = tmp_path / "messages.pot"
    monkeypatch.setattr(catalogs, "TEMPLATE", fresh)
    catalogs.extract()
    with fresh.open("rb") as f:
        new_ids = {m.id for m in read_po(f) if m.id}
    with catalogs.LOCALE_DIR.joinpath("messages.pot").open("rb") as f:
        old_ids = {m.id for m in read_po(f) if m.id}
    assert new_ids == old_ids, (
        "run `mfg i18n extract` and `mfg i18n update`, then translate: "
        f"new {sorted(map(str, new_ids - old_ids))[:10]}, "
        f"gone {sorted(map(str, old_ids - new_ids))[:10]}"
    )
    assert shipped  # the template is shipped with the package


def test_no_russian_message_is_left_untranslated_or_fuzzy() -> None:
    gaps = catalogs.gaps("ru")
    assert gaps.complete, (gaps.untranslated[:10], gaps.fuzzy[:10], gaps.missing[:10])


def test_the_compiled_catalogs_are_those_of_the_sources(tmp_path: Path) -> None:
    copy = tmp_path / "locale"
    shutil.copytree(catalogs.LOCALE_DIR, copy)
    for mo in copy.rglob("*.mo"):
        mo.unlink()
    catalogs.compile_all(copy)
    for language in catalogs.languages_with_catalogs():
        fresh = copy / language / "LC_MESSAGES" / "messages.mo"
        assert filecmp.cmp(fresh, catalogs.catalog_path(language, "mo"), shallow=False), (
            f"run `mfg i18n compile`: {language}'s .mo is not that of its .po"
        )


def test_belarusian_is_set_up_for_translation() -> None:
    assert "be" in LANGUAGES
    assert catalogs.catalog_path("be").exists()
    assert not catalogs.gaps("be").missing  # every message is there, waiting for its translation


def test_the_committed_glossary_is_what_the_code_and_the_catalogs_give() -> None:
    from mfg.docs import glossary

    committed = glossary.GLOSSARY.read_text(encoding="utf-8")
    assert committed == glossary.render(), "run python -m mfg.docs glossary"
    # every regulated word has its Russian translation (the second column is never empty)
    rows = [line.split("|") for line in committed.splitlines() if line.startswith("| ")]
    assert all(row[2].strip() for row in rows), [row[1] for row in rows if not row[2].strip()]
