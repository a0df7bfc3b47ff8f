"""``python -m mfg.docs rules [--check]``: write ``docs/rules.md`` from the guards and the tests."""

from __future__ import annotations

import argparse
import sys

from mfg.docs.catalogue import CATALOGUE, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfg.docs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rules = commands.add_parser("rules", help="write docs/rules.md, the rule catalogue")
    rules.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when docs/rules.md is stale"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = CATALOGUE.read_text(encoding="utf-8") if CATALOGUE.exists() else ""
        if current != text:
            print(f"{CATALOGUE} is out of date: run python -m mfg.docs rules", file=sys.stderr)
            return 1
        return 0
    CATALOGUE.write_text(text, encoding="utf-8")
    print(CATALOGUE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
