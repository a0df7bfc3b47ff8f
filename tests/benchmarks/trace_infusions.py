"""The clinical side of ``bench_trace``'s history, in bulk: trial patients of the treated arm,
their dose orders, allocations, issue, bedside checks and infusions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import insert, update

from mfg.clinical.patients import arms_of, criteria_of, get_trial
from mfg.models import (
    Allocation,
    BedsideCheck,
    Dose,
    DoseOrder,
    DoseStatus,
    Infusion,
    OrderStatus,
    Patient,
    utcnow,
)
from tests.benchmarks.trace_seeder import Seeder, insert_ids


def infuse(seeder: Seeder, doses: list[tuple[int, int, datetime]]) -> tuple[int, int]:
    """Trial patients of the treated arm, two of the doses each: order, allocation, issue,
    bedside check and infusion; the doses end infused. Returns (patients, infusions)."""
    trial = get_trial(seeder.s)
    arm = next(a for a in arms_of(seeder.s, trial) if a.code == "MSC")
    criteria = [[kind, text, kind == "I"] for kind, text in criteria_of(trial)]
    clinician, second = seeder.users["bench-clin"], seeder.users["bench-clin2"]
    pairs = [doses[i : i + 2] for i in range(0, len(doses), 2)]
    enrolled = [min(d[2] for d in pair) - timedelta(days=1) for pair in pairs]
    codes = [seeder.numbers.local("PT") for _ in pairs]
    patient_ids = insert_ids(
        seeder.s,
        Patient,
        [
            {
                "code": code,
                "trial_id": trial.id,
                "arm_id": arm.id,
                "sex": "MF"[i % 2],
                "age": 30 + i % 40,
                "weight_kg": 70.0,
                "weight_entered_by_id": clinician,
                "weight_verified_by_id": second,
                "weight_verified_at": at,
                "eligibility": json.dumps(criteria),
                "enrolled_on": at.date(),
                "arm_assigned_by_id": clinician,
                "created_at": at,
            }
            for i, (code, at) in enumerate(zip(codes, enrolled, strict=True))
        ],
    )
    order_ids = insert_ids(
        seeder.s,
        DoseOrder,
        [
            {
                "patient_id": p,
                "cells_per_kg": trial.cells_per_kg,
                "infusions": len(pair),
                "weight_kg": 70.0,
                "cells_per_infusion": int(70 * trial.cells_per_kg),
                "status": OrderStatus.COMPLETED,
                "ordered_by_id": clinician,
                "ordered_at": at,
            }
            for p, pair, at in zip(patient_ids, pairs, enrolled, strict=True)
        ],
    )
    given = [
        (patient, code, order, dose_id, _infused_at(filled))
        for patient, code, order, pair in zip(patient_ids, codes, order_ids, pairs, strict=True)
        for dose_id, _, filled in pair
    ]
    _allocate_and_infuse(seeder, given)
    return len(patient_ids), len(given)


def _infused_at(filled: datetime) -> datetime:
    return min(filled + timedelta(days=7), utcnow() - timedelta(hours=1))


def _allocate_and_infuse(seeder: Seeder, given: list[tuple[int, str, int, int, datetime]]) -> None:
    tech, clinician = seeder.tech, seeder.users["bench-clin"]
    seeder.s.execute(
        insert(Allocation),
        [
            {
                "dose_id": dose,
                "order_id": order,
                "patient_id": patient,
                "allocated_by_id": tech,
                "allocated_at": at - timedelta(hours=4),
                "issued_by_id": tech,
                "received_by_id": clinician,
                "issued_at": at - timedelta(hours=2),
                "transport_temp_c": -150.0,
            }
            for patient, _, order, dose, at in given
        ],
    )
    ok = json.dumps([["patient", True, ""], ["dose", True, ""], ["expiry", True, ""]])
    check_ids = insert_ids(
        seeder.s,
        BedsideCheck,
        [
            {
                "wristband_scan": code,
                "dose_scan": str(dose),
                "patient_id": patient,
                "dose_id": dose,
                "passed": True,
                "results": ok,
                "checked_by_id": clinician,
                "checked_at": at - timedelta(minutes=10),
            }
            for patient, code, _, dose, at in given
        ],
    )
    vitals = json.dumps({m: {"heart_rate": "80", "spo2": "96"} for m in ("before", "after")})
    seeder.s.execute(
        insert(Infusion),
        [
            {
                "dose_id": dose,
                "patient_id": patient,
                "bedside_check_id": check,
                "started_at": at,
                "stopped_at": at + timedelta(minutes=20),
                "volume_ml": 10.0,
                "complete": True,
                "bag_inspected": True,
                "vitals": vitals,
                "recorded_by_id": clinician,
                "recorded_at": at + timedelta(minutes=25),
            }
            for (patient, _, _, dose, at), check in zip(given, check_ids, strict=True)
        ],
    )
    seeder.s.execute(  # ORM bulk UPDATE by primary key
        update(Dose),
        [
            {
                "id": dose,
                "status": DoseStatus.INFUSED,
                "thawed_at": at - timedelta(minutes=30),
                "thawed_by_id": clinician,
            }
            for _, _, _, dose, at in given
        ],
    )
