"""The rule catalogue (docs/rules.md) is generated from the guards and the tests, and kept current.

docs/architecture.md#guards states the convention each guard follows; ``python -m mfg.docs rules``
writes the catalogue from it.
"""

from mfg.docs import catalogue


def test_the_committed_rule_catalogue_is_what_the_code_gives() -> None:
    committed = catalogue.CATALOGUE.read_text(encoding="utf-8")
    assert committed == catalogue.render(), (
        f"docs/rules.md is out of date with the guards or their tests: run `{catalogue.COMMAND}` "
        "and commit docs/rules.md"
    )


def test_every_guard_states_its_rule_code_and_clause_and_has_a_test() -> None:
    lacking = {g.qualified: g.lacks() for g in catalogue.guards() if g.lacks()}
    assert not lacking, (
        "guards lacking parts of the convention (docs/architecture.md#guards):\n"
        + ("\n".join(f"{name}: {', '.join(parts)}" for name, parts in sorted(lacking.items())))
    )


def test_the_catalogue_reads_a_guard_docstring_as_the_convention_writes_it() -> None:
    rule, codes, clauses = catalogue._parse_docstring(
        "A result is verified by a second person,\nnever by the one who entered it.\n\n"
        "Code: second_person_required, result_already_verified\n"
        "Clause: 21 CFR 211.194(a)(8); EU GMP Annex 11 §6\n"
    )
    assert rule == "A result is verified by a second person, never by the one who entered it."
    assert codes == ["second_person_required", "result_already_verified"]
    assert clauses == ["21 CFR 211.194(a)(8)", "EU GMP Annex 11 §6"]
    assert catalogue._parse_docstring("Only a rule.") == ("Only a rule.", [], [])


def test_the_catalogue_lists_only_functions_that_return_reasons(tmp_path) -> None:
    module = tmp_path / "rules.py"
    module.write_text(
        "from mfg.errors import Reason\n"
        "Blocking = Reason\n"
        "def a_guard(x) -> list[Blocking]:\n"
        '    """A guard.\n\n    Code: c\n    Clause: —\n    """\n'
        "def a_figure(x) -> float:\n"
        '    """Not a rule."""\n'
        "def _private(x) -> Reason | None:\n"
        "    return None\n",
        encoding="utf-8",
    )
    original = catalogue.ROOT
    catalogue.ROOT = tmp_path.parent
    try:
        found = catalogue.guards_of(module)
    finally:
        catalogue.ROOT = original
    assert [(g.name, g.codes, g.clauses) for g in found] == [("a_guard", ["c"], ["—"])]
