"""The ``mfg`` command: serve, migrate, load demonstration data
(docs/architecture.md#command-line)."""

from __future__ import annotations

import argparse
import gc
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mfg import __version__
from mfg.config import ConfigurationError, Settings, get_settings, normalise_database_url
from mfg.db import describe_database, engine_from_settings, unit_of_work, upgrade_database
from mfg.demo import DemoResult, load_demo
from mfg.errors import MfgError
from mfg.i18n import commands as i18n_commands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mfg",
        description="Manufacturing and lot-release tracker for a pooled OM-MSC cell therapy.",
        epilog="Configuration comes from MFG_* environment variables; see README.md.",
    )
    parser.add_argument("--version", action="version", version=f"mfg {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands)
    _add_db(commands)
    _add_demo(commands)
    _add_user(commands)
    _add_audit(commands)
    _add_trace(commands)
    _add_export(commands)
    i18n_commands.add_parser(commands)
    return parser


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="migrate the database, then serve the web application",
        description="Apply pending migrations, then serve the pages and the JSON API.",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="first fill an empty database with demonstration data and print the demo logins",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (PostgreSQL only; SQLite is served by one process)",
    )
    serve.set_defaults(handler=_serve)


def _add_db(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema", description="Database schema.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade", help="apply migrations", description="Apply every pending migration."
    )
    upgrade.set_defaults(handler=_db_upgrade)


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="fill an empty database with demonstration data",
        description="Migrate, then fill an empty database with demonstration data. "
        "A database that holds real records is refused.",
    )
    demo.set_defaults(handler=_demo)


def _add_user(commands: Any) -> None:
    user = commands.add_parser("user", help="user accounts", description="User accounts.")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    add = user_commands.add_parser(
        "add",
        help="create a user",
        description="Create a user whose password is typed at the prompt (or read from "
        "MFG_NEW_PASSWORD): for the first administrator of an installation.",
    )
    add.add_argument("username")
    add.add_argument("--full-name", required=True, help="the printed name shown on signatures")
    add.add_argument(
        "--role",
        dest="roles",
        action="append",
        required=True,
        metavar="ROLE",
        help="admin, technician, qc, qa or clinician; repeat for several roles",
    )
    add.set_defaults(handler=_user_add)


def _add_audit(commands: Any) -> None:
    audit = commands.add_parser("audit", help="audit trail", description="Audit trail.")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify",
        help="verify the hash chain",
        description="Recompute the audit trail's hash chain. Exit 0 when it holds; otherwise "
        "exit 1 and name the first bad event.",
    )
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="a checkpoint written by 'mfg audit checkpoint': also check that the chain still "
        "holds its event unchanged (a rewound chain fails)",
    )
    verify.set_defaults(handler=_audit_verify)
    checkpoint = audit_commands.add_parser(
        "checkpoint",
        help="write a signed checkpoint of the chain head",
        description="Verify the chain, then write a signed checkpoint of its head (JSON) and a "
        "one-page PDF for QA to keep outside the database. Refused when the chain is broken.",
    )
    checkpoint.add_argument(
        "--output",
        metavar="DIR_OR_FILE",
        default=".",
        help="a directory (default: the current one) or the JSON file's name",
    )
    checkpoint.set_defaults(handler=_audit_checkpoint)


def _add_trace(commands: Any) -> None:
    trace = commands.add_parser(
        "trace",
        help="chain of identity of a code",
        description="Print every donor upstream and every dose and patient downstream of a "
        "code (anything the scan field accepts, or a dose identifier).",
    )
    trace.add_argument("code")
    trace.set_defaults(handler=_trace)


def _add_export(commands: Any) -> None:
    export = commands.add_parser("export", help="export records", description="Export records.")
    export_commands = export.add_subparsers(dest="export_command", required=True, metavar="FORMAT")
    fhir = export_commands.add_parser(
        "fhir",
        help="FHIR R5 Bundles of doses, lots and patients",
        description="Write the FHIR R5 Bundle of a dose, lot or patient (CODE: anything the "
        "scan field accepts, a DIN or a dose identifier) to standard output or --output FILE; "
        "with --all, one Bundle per lot and per patient into the directory --output. Every "
        "Bundle is validated before it is written, and every export is audited.",
    )
    fhir.add_argument("code", nargs="?", help="the dose, lot or patient to export")
    fhir.add_argument("--all", action="store_true", help="every lot and every patient")
    fhir.add_argument("--output", "-o", help="a file (one Bundle) or a directory (--all)")
    fhir.set_defaults(handler=_export_fhir)


def _migrate(settings: Settings) -> None:
    engine = engine_from_settings(settings)
    try:
        before, after = upgrade_database(engine)
    finally:
        engine.dispose()
    where = describe_database(settings.effective_database_url)
    if before == after:
        print(f"Database: {where} (schema {after}, up to date)")
    else:
        print(f"Database: {where} (schema {before or 'empty'} -> {after})")


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    _migrate(settings)
    return 0


def _run_demo(settings: Settings) -> DemoResult:
    engine = engine_from_settings(settings)
    try:
        with unit_of_work(engine, settings=settings) as session:
            return load_demo(session, settings=settings)
    finally:
        engine.dispose()


def _new_password() -> str:
    password = os.environ.get("MFG_NEW_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise MfgError("No terminal to ask for the password: set MFG_NEW_PASSWORD.")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password again: "):
        raise MfgError("The two passwords differ.")
    return password


def _user_add(args: argparse.Namespace, settings: Settings) -> int:
    from mfg.auth.service import create_user

    _migrate(settings)
    password = _new_password()
    engine = engine_from_settings(settings)
    try:
        with unit_of_work(engine, settings=settings) as session:
            issued = create_user(
                session,
                actor=None,
                username=args.username,
                full_name=args.full_name,
                roles=args.roles,
                password=password,
            )
            created = issued.user
            print(f"Created user {created.username} ({created.full_name}): {created.roles}")
    finally:
        engine.dispose()
    return 0


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from mfg.audit.service import verify_chain
    from mfg.audit_review.checkpoint import read_checkpoint, verify_with_checkpoint

    checkpoint = None
    if args.checkpoint:
        checkpoint = read_checkpoint(
            Path(args.checkpoint).read_text(encoding="utf-8"),
            secret=settings.effective_secret_key(),
        )
    engine = engine_from_settings(settings)
    try:
        with unit_of_work(engine, settings=settings, write=False) as session:
            if checkpoint is None:
                report = verify_chain(session)
            else:
                report = verify_with_checkpoint(session, checkpoint)
    finally:
        engine.dispose()
    if report.ok:
        print(f"Audit trail intact: {report.message}.")
        return 0
    where = f" at event #{report.first_bad_seq}" if report.first_bad_seq is not None else ""
    print(f"Audit trail BROKEN{where}: {report.message}.", file=sys.stderr)
    return 1


def _audit_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    from mfg.audit_review.checkpoint import checkpoint_pdf, write_checkpoint

    engine = engine_from_settings(settings)
    written: list[Path] = []
    try:
        # The files are written before the event that records them is committed: a checkpoint
        # the trail names always exists, and a failed commit takes its files away again.
        with unit_of_work(engine, settings=settings) as session:
            checkpoint = write_checkpoint(session)
            output = Path(args.output)
            if output.is_dir():
                output = output / f"audit-checkpoint-{checkpoint.seq}.json"
            pdf = output.with_suffix(".pdf")
            written = [output, pdf]
            output.write_text(checkpoint.to_json(), encoding="utf-8")
            pdf.write_bytes(checkpoint_pdf(checkpoint, settings))
    except BaseException as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        print(
            f"mfg: the checkpoint could not be written, nothing was recorded: {exc}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    print(f"Checkpoint of event #{checkpoint.seq} written: {output} and {pdf}.")
    print(
        "Keep both outside the database server; verify with: "
        f"mfg audit verify --checkpoint {output}"
    )
    return 0


def _trace(args: argparse.Namespace, settings: Settings) -> int:
    from mfg.record_kinds import build_resolver
    from mfg.trace.graph import KINDS
    from mfg.trace.lookup import resolve_code
    from mfg.trace.service import build_trace

    engine = engine_from_settings(settings)
    try:
        with unit_of_work(engine, settings=settings, write=False) as session:
            kind, identifier = resolve_code(build_resolver(), session, args.code)
            result = build_trace(session, kind=kind, identifier=identifier)
    finally:
        engine.dispose()
    print(f"Chain of identity of {result.root.kind} {result.root.identifier}")
    if result.doses_summarised:
        print(f"  {result.doses_total:,} doses: only those given to a patient are listed")
    if result.cultures_omitted:
        print(f"  {result.cultures_omitted:,} culture vessels: counted, not listed")
    for kind in KINDS:
        for node in result.of_kind(kind):
            print(f"  {kind:9} {node.identifier:22} {node.status:24} {node.detail}".rstrip())
    return 0


def _export_fhir(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from mfg.record_kinds import build_resolver
    from mfg.trace import fhir
    from mfg.trace.lookup import resolve_code

    if args.all == bool(args.code) or (args.all and not args.output):
        print("Give either a CODE, or --all with --output DIRECTORY.", file=sys.stderr)
        return 2
    engine = engine_from_settings(settings)
    try:
        with unit_of_work(engine, settings=settings) as session:
            if args.all:
                targets = fhir.every_export_target(session)
            else:
                kind, identifier = resolve_code(build_resolver(), session, args.code)
                if kind not in fhir.KINDS:
                    print(
                        f"A {kind} has no FHIR Bundle: export a dose, lot or patient.",
                        file=sys.stderr,
                    )
                    return 2
                targets = [(kind, identifier)]
            exports = [
                fhir.export_from_command_line(session, kind=kind, identifier=identifier)
                for kind, identifier in targets
            ]
    finally:
        engine.dispose()
    if args.all:
        directory = Path(args.output)
        directory.mkdir(parents=True, exist_ok=True)
        for export in exports:
            (directory / export.filename).write_bytes(export.content)
        print(f"{len(exports)} FHIR Bundles written to {directory}")
    elif args.output:
        Path(args.output).write_bytes(exports[0].content)
        print(
            f"{exports[0].filename}: {exports[0].resources} resources, sha256 {exports[0].sha256}"
        )
    else:
        sys.stdout.buffer.write(exports[0].content + b"\n")
    return 0


def _print_demo(result: DemoResult) -> None:
    print("Demonstration data:", "loaded" if result.created else "already present")
    for line in result.summary:
        print(f"  - {line}")
    if result.logins:
        print("Demo logins (demonstration only, never for real use):")
        for login in result.logins:
            print(f"  {login.username:<12} {login.role:<10} password: {login.password}")


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    _migrate(settings)
    _print_demo(_run_demo(settings))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from mfg.main import create_app

    if args.workers < 1:
        raise ConfigurationError("--workers is at least 1")
    sqlite = normalise_database_url(settings.effective_database_url).startswith("sqlite")
    if args.workers > 1 and sqlite:
        raise ConfigurationError(
            "several workers need PostgreSQL (MFG_DATABASE_URL): SQLite has one writer at a "
            "time, and one process queues its writers best"
        )
    _migrate(settings)
    if args.demo:
        _print_demo(_run_demo(settings))
    settings.effective_secret_key()  # made once here, before any worker reads it
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host  # noqa: S104
    print(f"Serving on http://{host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    if args.workers > 1:
        from mfg import workers

        if workers.can_share_a_port():
            return workers.Supervisor(args.host, args.port, args.workers).run()
        # No SO_REUSEPORT: uvicorn's workers share one socket (less evenly spread).
        uvicorn.run(
            "mfg.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
        )
        return 0
    app = create_app(settings)
    freeze_start_up_objects()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def freeze_start_up_objects() -> None:
    """Take what start-up made (modules, models, schemas, templates: some 230,000 objects, all
    living as long as the server) out of the cyclic garbage collector's sight, once start-up's
    own garbage is collected. Every few thousand requests the collector walks every object it
    tracks: 230 ms on the benchmark machine with them, 26 ms without, a pause any request
    could meet. Memory is still freed by reference counting."""
    gc.collect()
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        status = args.handler(args, settings)
        sys.stdout.flush()  # here, so that a reader gone away is met inside this ``try``
        return status
    except BrokenPipeError:
        # The reader stopped reading (``mfg trace CODE | head``): stop quietly, as other
        # command-line tools do, not with a traceback; nothing is left to write to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ConfigurationError as exc:
        print(f"mfg: configuration error: {exc}", file=sys.stderr)
        return 2
    except MfgError as exc:
        reasons = exc.details.get("reasons") or []
        detail = "".join(f"\n  - {r}" for r in reasons if r not in exc.message)
        print(f"mfg: {exc.message} [{exc.code}]{detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
