"""The bedside checks of docs/process.md#bedside-checks as a tuple of small guards, each a pure
function of the facts the bedside service loads (``BedsideFacts``) answering a ``Check``: passed,
or a hard stop with its rule's code and the words the clinician reads, kept as a template and
its parameters so that each reader sees them in their language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mfg import i18n
from mfg.clinical.rules import matches_prescription
from mfg.errors import MfgError
from mfg.i18n import N_
from mfg.models import (
    Dose,
    DoseStatus,
    LotStatus,
    Patient,
)


@dataclass(frozen=True)
class Check:
    """One bedside check: its name, whether it passed, why, and the stable code of the rule
    (``ok`` when it passed). ``reason`` is the English text as recorded; ``template`` and
    ``params`` let it be shown in the reader's language (:meth:`localized_reason`). A parameter
    named ``status`` or ending in ``_status`` is a status code, shown as its badge word."""

    name: str
    ok: bool
    reason: str
    code: str = "ok"
    template: str = ""
    params: dict[str, object] = field(default_factory=dict)

    def localized_reason(self) -> str:
        if not self.template:
            return i18n.raw_gettext(self.reason)
        return i18n.raw_gettext(self.template) % _shown(self.params, localized=True)


def _shown(params: dict[str, object], *, localized: bool) -> dict[str, object]:
    """The parameters as a reason shows them: status codes as their (upper-case) badge word."""
    shown: dict[str, object] = {}
    for key, value in params.items():
        if key == "status" or key.endswith("_status"):
            word = str(value).replace("_", " ")
            value = (i18n.pgettext("status", word) if localized else word).upper()
        shown[key] = value
    return shown


def _passed(name: str, reason: str, **params: object) -> Check:
    return Check(name, True, reason % _shown(params, localized=False), "ok", reason, params)


def _stop(name: str, code: str, reason: str, **params: object) -> Check:
    return Check(name, False, reason % _shown(params, localized=False), code, reason, params)


@dataclass
class BedsideFacts:
    patient: Patient | None
    patient_error: MfgError | None
    dose: Dose | None
    dose_error: MfgError | None
    receives_product: bool
    allocated_to: int | None  # the patient id of the dose's active allocation
    lot_status: str | None
    prescribed_cells: int | None
    infusions_done: int
    infusions_allowed: int  # the trial's maximum per patient
    now: datetime
    thaw_limit_minutes: int
    ineligible_donors: Sequence[str] = ()  # the dose's donors found not eligible


def identified_guard(name: str, error: MfgError | None) -> Check:
    """The wristband names a patient and the dose label a dose of this facility; otherwise the
    scan's own refusal (a wrong check character, say) or "not recognised".

    Code: wristband_not_recognised, dose_not_recognised
    Clause: —
    """
    wristband = name == "wristband"
    if error is None:
        return _passed(name, N_("patient identified") if wristband else N_("dose identified"))
    code = error.code if error.code != "not_found" else f"{name.split()[0]}_not_recognised"
    refusal = (
        N_("WRISTBAND NOT RECOGNISED: %(why)s")
        if wristband
        else N_("DOSE LABEL NOT RECOGNISED: %(why)s")
    )
    return _stop(name, code, refusal, why=error.message)


def arm_guard(f: BedsideFacts) -> Check:
    """Only a patient of an arm that receives the product is infused.

    Code: control_arm
    Clause: —
    """
    if f.receives_product:
        return _passed(N_("arm"), N_("the patient's arm receives the product"))
    return _stop(N_("arm"), "control_arm", N_("CONTROL ARM: this patient receives no cell product"))


def allocation_guard(f: BedsideFacts) -> Check:
    """The dose is allocated to this very patient.

    Code: not_allocated_to_patient
    Clause: —
    """
    if f.allocated_to == f.patient.id:
        return _passed(N_("allocated to this patient"), N_("allocated to this patient"))
    return _stop(
        N_("allocated to this patient"),
        "not_allocated_to_patient",
        N_("THIS DOSE IS NOT ALLOCATED TO THIS PATIENT"),
    )


def release_guard(f: BedsideFacts) -> Check:
    """The lot is released, or conditionally released (acknowledged before infusing).

    Code: lot_not_released
    Clause: EU GMP Annex 11 §15
    """
    if f.lot_status == LotStatus.RELEASED:
        return _passed(N_("lot released"), N_("released"))
    if f.lot_status == LotStatus.CONDITIONALLY_RELEASED:
        return _passed(
            N_("lot released"), N_("CONDITIONALLY released — sterility pending: acknowledge")
        )
    return _stop(
        N_("lot released"),
        "lot_not_released",
        N_("LOT NOT RELEASED: %(status)s"),
        status=str(f.lot_status),
    )


def expiry_guard(f: BedsideFacts) -> Check:
    """The dose is within its expiry: it expires after the moment of the check.

    Code: dose_expired
    Clause: —
    """
    if f.dose.expires_at > f.now:
        return _passed(N_("not expired"), N_("within expiry"))
    return _stop(
        N_("not expired"),
        "dose_expired",
        N_("EXPIRED %(when)s UTC"),
        when=f"{f.dose.expires_at:%Y-%m-%d %H:%M}",
    )


_STOPPED_DOSE = (DoseStatus.ON_HOLD, DoseStatus.RECALLED, DoseStatus.DISCARDED)
_STOPPED_LOT = (LotStatus.ON_HOLD, LotStatus.RECALLED)


def stop_guard(f: BedsideFacts) -> Check:
    """Neither the dose nor its lot is on hold, recalled or discarded; the reason names which.

    Code: dose_on_hold, dose_recalled
    Clause: —
    """
    name = N_("not on hold or recalled")
    dose_stopped, lot_stopped = f.dose.status in _STOPPED_DOSE, f.lot_status in _STOPPED_LOT
    if not (dose_stopped or lot_stopped):
        return _passed(name, N_("usable"))
    held = f.dose.status == DoseStatus.ON_HOLD or f.lot_status == LotStatus.ON_HOLD
    code = "dose_on_hold" if held else "dose_recalled"
    statuses = {"dose_status": str(f.dose.status), "lot_status": str(f.lot_status)}
    if dose_stopped and lot_stopped:
        return _stop(name, code, N_("DOSE %(dose_status)s / LOT %(lot_status)s"), **statuses)
    if dose_stopped:
        return _stop(name, code, N_("DOSE %(dose_status)s"), dose_status=statuses["dose_status"])
    return _stop(name, code, N_("LOT %(lot_status)s"), lot_status=statuses["lot_status"])


def donor_guard(f: BedsideFacts) -> Check:
    """Every donor of the dose is still eligible (a look-back may have found one ineligible).

    Code: donor_not_eligible
    Clause: 21 CFR 1271 subpart C; EU 2004/23/EC, 2006/17/EC
    """
    if not f.ineligible_donors:
        return _passed(N_("donors eligible"), N_("every donor eligible"))
    return _stop(
        N_("donors eligible"),
        "donor_not_eligible",
        N_("DONOR %(donors)s NOT ELIGIBLE: do not infuse"),
        donors=", ".join(f.ineligible_donors),
    )


def infused_guard(f: BedsideFacts) -> Check:
    """A dose is infused once.

    Code: already_infused
    Clause: —
    """
    if f.dose.status != DoseStatus.INFUSED:
        return _passed(N_("not already infused"), N_("not infused"))
    return _stop(N_("not already infused"), "already_infused", N_("ALREADY INFUSED"))


def issue_guard(f: BedsideFacts) -> Check:
    """The dose was handed over to the ward.

    Code: not_issued
    Clause: —
    """
    if f.dose.status in (DoseStatus.ISSUED, DoseStatus.INFUSED):
        return _passed(N_("issued to the ward"), N_("issued"))
    return _stop(
        N_("issued to the ward"),
        "not_issued",
        N_("NOT ISSUED: the dose is %(status)s"),
        status=str(f.dose.status),
    )


def thaw_guard(f: BedsideFacts) -> Check:
    """The dose was thawed, at most the thaw-to-infusion limit ago (the limit itself included).

    Code: not_thawed, thaw_window_exceeded
    Clause: —
    """
    name, limit = N_("thaw window"), f.thaw_limit_minutes
    if f.dose.thawed_at is None:
        return _stop(name, "not_thawed", N_("NOT THAWED: record the thaw first"))
    minutes = int((f.now - f.dose.thawed_at).total_seconds() // 60)
    if f.now - f.dose.thawed_at > timedelta(minutes=limit):
        refusal = N_("THAWED %(minutes)s MIN AGO: beyond %(limit)s min")
        return _stop(name, "thaw_window_exceeded", refusal, minutes=minutes, limit=limit)
    return _passed(name, N_("thawed within %(limit)s min"), limit=limit)


def prescription_guard(f: BedsideFacts) -> Check:
    """The cells of the dose are within ±10 % of the prescription of the active order, ±10 %
    itself included.

    Code: no_active_order, cells_outside_prescription
    Clause: —
    """
    name = N_("cell dose matches prescription")
    if f.prescribed_cells is None:
        return _stop(name, "no_active_order", N_("NO ACTIVE ORDER for this patient"))
    cells = {"cells": f"{f.dose.cells:,}", "prescribed": f"{f.prescribed_cells:,}"}
    if matches_prescription(f.dose.cells, f.prescribed_cells):
        return _passed(name, N_("%(cells)s cells for %(prescribed)s prescribed"), **cells)
    return _stop(
        name,
        "cells_outside_prescription",
        N_("%(cells)s CELLS vs %(prescribed)s PRESCRIBED (±10 %%)"),
        **cells,
    )


def infusion_count_guard(f: BedsideFacts) -> Check:
    """The patient's infusions stay within the trial's maximum.

    Code: infusion_limit_reached
    Clause: —
    """
    name = N_("infusions within the maximum")
    if f.infusions_done < f.infusions_allowed:
        return _passed(
            name,
            N_("infusion %(number)s of %(allowed)s"),
            number=f.infusions_done + 1,
            allowed=f.infusions_allowed,
        )
    limit = f.infusions_allowed
    refusal = (
        N_("MAXIMUM OF %(limit)s INFUSION REACHED")
        if limit == 1
        else N_("MAXIMUM OF %(limit)s INFUSIONS REACHED")
    )
    return _stop(name, "infusion_limit_reached", refusal, limit=limit)


# The checks of docs/process.md#bedside-checks, in the order the clinician reads them.
GUARDS = (
    arm_guard,
    allocation_guard,
    release_guard,
    expiry_guard,
    stop_guard,
    donor_guard,
    infused_guard,
    issue_guard,
    thaw_guard,
    prescription_guard,
    infusion_count_guard,
)


def bedside_checks(f: BedsideFacts) -> list[Check]:
    """Each check of docs/process.md#bedside-checks with its outcome and, when it fails, why:
    the two scans first; once both identify, every guard in order."""
    if f.patient is None or f.dose is None:
        return [
            identified_guard("wristband", f.patient_error),
            identified_guard("dose label", f.dose_error),
        ]
    return [guard(f) for guard in GUARDS]
