"""Reference data installed with the schema: the default product specification, version 1.

It is read from ``mfg/defaults/specification.toml`` and installed approved, so that the first lot
is judged against a specification; QA changes it by approving a new version in the application.
"""

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

DEFAULTS = Path(__file__).resolve().parent.parent / "mfg" / "defaults" / "specification.toml"


def install_default_specification() -> None:
    spec = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    bind = op.get_bind()
    now = datetime.now(UTC)
    version = sa.table(
        "spec_version",
        sa.column("id", sa.Integer),
        sa.column("version", sa.Integer),
        sa.column("title", sa.String),
        sa.column("note", sa.String),
        sa.column("status", sa.String),
        sa.column("created_at", UTCDateTime()),
        sa.column("approved_at", UTCDateTime()),
    )
    spec_id = bind.execute(
        sa.insert(version)
        .values(
            version=1,
            title=spec["title"],
            note=spec.get("note", ""),
            status="approved",
            created_at=now,
            approved_at=now,
        )
        .returning(version.c.id)
    ).scalar_one()
    test = sa.table(
        "spec_test",
        *(
            sa.column(name)
            for name in (
                "spec_version_id",
                "position",
                "code",
                "name",
                "method",
                "unit",
                "kind",
                "min_value",
                "min_inclusive",
                "max_value",
                "max_inclusive",
                "choices",
                "accepted",
                "stage",
                "required",
                "preliminary_readings",
                "per_kg_from",
            )
        ),
    )
    bind.execute(
        sa.insert(test),
        [
            {
                "spec_version_id": spec_id,
                "position": position,
                "code": t["code"],
                "name": t["name"],
                "method": t.get("method", ""),
                "unit": t.get("unit", ""),
                "kind": t["kind"],
                "min_value": t.get("min"),
                "min_inclusive": t.get("min_inclusive", True),
                "max_value": t.get("max"),
                "max_inclusive": t.get("max_inclusive", True),
                "choices": t.get("choices", ""),
                "accepted": t.get("accepted", ""),
                "stage": t["stage"],
                "required": t.get("required", True),
                "preliminary_readings": t.get("preliminary_readings", ""),
                "per_kg_from": t.get("per_kg_from", ""),
            }
            for position, t in enumerate(spec["tests"], start=1)
        ],
    )


TRIAL = Path(__file__).resolve().parent.parent / "mfg" / "defaults" / "trial.toml"


def install_default_trial() -> None:
    """The trial NCT04382547 and its two arms, from ``mfg/defaults/trial.toml``."""
    trial = tomllib.loads(TRIAL.read_text(encoding="utf-8"))
    bind = op.get_bind()
    table = sa.table(
        "trial",
        *(
            sa.column(name)
            for name in (
                "id",
                "code",
                "title",
                "cells_per_kg",
                "max_infusions",
                "min_age",
                "max_age",
                "criteria",
            )
        ),
        sa.column("created_at", UTCDateTime()),
    )
    trial_id = bind.execute(
        sa.insert(table)
        .values(
            code=trial["code"],
            title=trial["title"],
            cells_per_kg=trial["cells_per_kg"],
            max_infusions=trial["max_infusions"],
            min_age=trial["min_age"],
            max_age=trial["max_age"],
            criteria=trial["criteria"].strip(),
            created_at=datetime.now(UTC),
        )
        .returning(table.c.id)
    ).scalar_one()
    arms = sa.table(
        "trial_arm", *(sa.column(n) for n in ("trial_id", "code", "name", "receives_product"))
    )
    bind.execute(sa.insert(arms), [{"trial_id": trial_id, **arm} for arm in trial["arms"]])
