"""``python -m mfg.docs rules|glossary [--check]``: write ``docs/rules.md`` from the guards and
the tests, or ``docs/glossary.md`` from the controlled lists and the catalogs."""

from __future__ import annotations

import argparse
import sys

from mfg.docs import catalogue, glossary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfg.docs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rules = commands.add_parser("rules", help="write docs/rules.md, the rule catalogue")
    words = commands.add_parser("glossary", help="write docs/glossary.md, the regulated words")
    for command in (rules, words):
        command.add_argument(
            "--check", action="store_true", help="write nothing; exit 1 when the page is stale"
        )
    args = parser.parse_args(argv)
    if args.command == "rules":
        path, text = catalogue.CATALOGUE, catalogue.render()
    else:
        path, text = glossary.GLOSSARY, glossary.render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m mfg.docs {args.command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
