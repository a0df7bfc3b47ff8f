"""``mfg i18n extract|update|compile|check|init``: the message catalogs from the command line
(docs/architecture.md#languages)."""

from __future__ import annotations

import argparse
from typing import Any

from mfg.i18n import catalogs


def add_parser(commands: Any) -> None:
    """``mfg i18n STEP``: the subcommand and its steps, for the ``mfg`` command's parser."""
    i18n = commands.add_parser(
        "i18n",
        help="message catalogs (translations)",
        description="The message catalogs, with Babel: extract the marked messages from the "
        "code and the templates, update each language's catalog, compile them, check them.",
    )
    steps = i18n.add_subparsers(dest="i18n_command", required=True, metavar="STEP")
    steps.add_parser("extract", help="write mfg/i18n/locale/messages.pot from the sources")
    steps.add_parser("update", help="bring every catalog in line with messages.pot")
    steps.add_parser("compile", help="compile every catalog to the .mo the application reads")
    steps.add_parser(
        "check",
        help="exit 1 when a catalog that must be complete (ru) lacks a translation or holds a "
        "fuzzy one",
    )
    init = steps.add_parser("init", help="a new catalog for a language")
    init.add_argument("language")
    i18n.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: object) -> int:
    if args.i18n_command == "extract":
        print(f"Wrote {catalogs.extract()}")
    elif args.i18n_command == "update":
        catalogs.update()
    elif args.i18n_command == "compile":
        catalogs.compile_all()
    elif args.i18n_command == "init":
        print(f"Wrote {catalogs.init(args.language)}")
    else:
        return _check()
    return 0


def _check() -> int:
    status = 0
    for language in catalogs.languages_with_catalogs():
        gaps = catalogs.gaps(language)
        print(
            f"{language}: {len(gaps.untranslated)} untranslated, {len(gaps.fuzzy)} fuzzy, "
            f"{len(gaps.missing)} missing"
        )
        if language in catalogs.COMPLETE and not gaps.complete:
            for message in (gaps.untranslated + gaps.fuzzy + gaps.missing)[:20]:
                print(f"  {message!r}")
            status = 1
    return status
