"""The facts the clinical guard tests start from: a patient and a dose that every guard lets
through, changed one field at a time by each test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mfg.models import Dose as DoseRow
from mfg.models import (
    DoseStatus,
    Patient,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PRESCRIBED = 70_000_000  # 1 × 10⁶ cells per kg for 70 kg
THAW_LIMIT = 60


def patient(**changes) -> Patient:
    return Patient(id=7, code="PT0000007", weight_verified_at=NOW, **changes)


def dose(**changes) -> DoseRow:
    values = {
        "cells": PRESCRIBED,
        "status": DoseStatus.ISSUED,
        "expires_at": NOW + timedelta(days=30),
        "thawed_at": NOW - timedelta(minutes=10),
    } | changes
    return DoseRow(division="A0", **values)
