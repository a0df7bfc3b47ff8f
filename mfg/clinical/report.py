"""The trial report (docs/process.md#trial-report): per arm, patients enrolled, infused, cured at
day 21 and with a treatment-related adverse event, each as n and % of the enrolled; who still lacks
an outcome.

The counting is a pure function over loaded rows; CSV and PDF render the same ``Report``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reportlab.platypus import Spacer
from sqlmodel import Session, col, select

from mfg.audit import service as audit
from mfg.auth.permissions import Action, authorize
from mfg.config import Settings
from mfg.db import settings_of
from mfg.i18n import format_number, use_language
from mfg.i18n import gettext as _
from mfg.labeling.fields import TEST_NOTICE
from mfg.manufacturing.batchrecord_pdf import (
    BAD,
    BODY,
    H1,
    H2,
    a4_pdf,
    grid_table,
    local,
    para,
)
from mfg.models import (
    TREATMENT_RELATED,
    AdverseEvent,
    Infusion,
    Outcome,
    Patient,
    PatientStatus,
    Trial,
    TrialArm,
    User,
    utcnow,
)


@dataclass(frozen=True)
class ArmCounts:
    code: str
    name: str
    receives_product: bool
    enrolled: int
    withdrawn: int
    infused: int
    cured: int
    treatment_related_ae: int
    lacking_outcome: tuple[str, ...] = ()

    @property
    def cured_pct(self) -> float | None:
        return percent(self.cured, self.enrolled)

    @property
    def treatment_related_ae_pct(self) -> float | None:
        return percent(self.treatment_related_ae, self.enrolled)


@dataclass(frozen=True)
class Report:
    trial_code: str
    trial_title: str
    generated_at: datetime
    arms: tuple[ArmCounts, ...] = field(default_factory=tuple)


def percent(n: int, of: int) -> float | None:
    """n as a percentage of ``of``, to one decimal; None when there is nobody to count."""
    return round(100 * n / of, 1) if of else None


def shown_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def count_arms(
    arms: Iterable[TrialArm],
    patients: Iterable[Patient],
    *,
    infused_patient_ids: Iterable[int],
    outcomes: Iterable[Outcome],
    adverse_events: Iterable[AdverseEvent],
) -> tuple[ArmCounts, ...]:
    """Count each arm over its enrolled patients (all but the withdrawn, who are counted apart):
    infused = at least one infusion; cured = day-21 outcome cured; with a treatment-related
    adverse event = at least one event whose relation is possible, probable or definite."""
    infused = set(infused_patient_ids)
    cured = {o.patient_id for o in outcomes if o.cured}
    assessed = {o.patient_id for o in outcomes}
    related = {e.patient_id for e in adverse_events if e.relation in TREATMENT_RELATED}
    patients = list(patients)
    counted = []
    for arm in arms:
        of_arm = [p for p in patients if p.arm_id == arm.id]
        enrolled = [p for p in of_arm if p.status != PatientStatus.WITHDRAWN]
        ids = {p.id for p in enrolled}
        counted.append(
            ArmCounts(
                code=arm.code,
                name=arm.name,
                receives_product=arm.receives_product,
                enrolled=len(enrolled),
                withdrawn=len(of_arm) - len(enrolled),
                infused=len(ids & infused),
                cured=len(ids & cured),
                treatment_related_ae=len(ids & related),
                lacking_outcome=tuple(sorted(p.code for p in enrolled if p.id not in assessed)),
            )
        )
    return tuple(counted)


def trial_report(session: Session, *, actor: User, trial: Trial) -> Report:
    """The report of ``trial`` as it stands now."""
    authorize(actor, Action.VIEW_CLINICAL)
    arms = session.exec(
        select(TrialArm).where(TrialArm.trial_id == trial.id).order_by(col(TrialArm.id))
    ).all()
    patients = session.exec(select(Patient).where(Patient.trial_id == trial.id)).all()
    of_trial = select(Patient.id).where(Patient.trial_id == trial.id)
    infused = session.exec(
        select(Infusion.patient_id).where(col(Infusion.patient_id).in_(of_trial)).distinct()
    ).all()
    outcomes = session.exec(select(Outcome).where(col(Outcome.patient_id).in_(of_trial))).all()
    events = session.exec(
        select(AdverseEvent).where(col(AdverseEvent.patient_id).in_(of_trial))
    ).all()
    return Report(
        trial_code=trial.code,
        trial_title=trial.title,
        generated_at=utcnow(),
        arms=count_arms(
            arms, patients, infused_patient_ids=infused, outcomes=outcomes, adverse_events=events
        ),
    )


def export_report(session: Session, *, actor: User, trial: Trial, kind: str) -> bytes:
    """The report as CSV or PDF; each copy issued is audited with its SHA-256."""
    report = trial_report(session, actor=actor, trial=trial)
    if kind == "csv":
        content = report_csv(report).encode("utf-8")
    else:
        content = report_pdf(report, settings_of(session))
    audit.record(
        session,
        actor=actor,
        action="trial.report_exported",
        entity_type="trial",
        entity_id=trial.code,
        changes={"format": [None, kind], "sha256": [None, hashlib.sha256(content).hexdigest()]},
    )
    return content


# --- CSV -------------------------------------------------------------------------------------

CSV_HEADER = (
    "trial",
    "arm",
    "arm_name",
    "receives_product",
    "enrolled",
    "withdrawn",
    "infused",
    "cured_n",
    "cured_pct",
    "treatment_related_ae_n",
    "treatment_related_ae_pct",
    "lacking_day21_outcome",
)


def _pct_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def report_csv(report: Report) -> str:
    """One row per arm; percentages of the enrolled, blank when the arm has nobody enrolled."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for arm in report.arms:
        writer.writerow(
            [
                report.trial_code,
                arm.code,
                arm.name,
                "yes" if arm.receives_product else "no",
                arm.enrolled,
                arm.withdrawn,
                arm.infused,
                arm.cured,
                _pct_cell(arm.cured_pct),
                arm.treatment_related_ae,
                _pct_cell(arm.treatment_related_ae_pct),
                " ".join(arm.lacking_outcome),
            ]
        )
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

_WIDTHS = (40, 22, 22, 22, 30, 44)


def _header() -> tuple[str, ...]:
    return (
        _("Arm"),
        _("Enrolled"),
        _("Withdrawn"),
        _("Infused"),
        _("Cured n (%)"),
        _("Treatment-related AE n (%)"),
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{format_number(value, 1)} %"


def _arm_row(arm: ArmCounts) -> list[str]:
    return [
        f"{arm.code} — {arm.name}",
        str(arm.enrolled),
        str(arm.withdrawn),
        str(arm.infused),
        f"{arm.cured} ({_pct(arm.cured_pct)})",
        f"{arm.treatment_related_ae} ({_pct(arm.treatment_related_ae_pct)})",
    ]


def _lacking_flow(report: Report) -> list:
    flow: list = [para(_("Patients without a day-21 outcome"), H2)]
    for arm in report.arms:
        codes = ", ".join(arm.lacking_outcome) or _("none")
        flow.append(para(f"{arm.code}: {codes}"))
    return flow


def report_pdf(report: Report, settings: Settings) -> bytes:
    """The report on A4, in the facility's language: the counts per arm, the definitions, who
    lacks an outcome."""
    with use_language(settings.language):
        return _report_pdf(report, settings)


def _report_pdf(report: Report, settings: Settings) -> bytes:
    generated = local(report.generated_at, settings)

    flow: list = [para(_("Trial report — %(trial)s", trial=report.trial_code), H1)]
    if settings.is_test_facility:
        flow.append(para(_(TEST_NOTICE), BAD))
    flow += [
        para(report.trial_title),
        para(_("Generated %(time)s", time=generated)),
        Spacer(0, 4),
        grid_table(_header(), [_arm_row(a) for a in report.arms], _WIDTHS),
        Spacer(0, 4),
        para(
            _(
                "Percentages are of the enrolled patients (withdrawn patients are not counted). "
                "Cured: day-21 PCR negative and chest CT improved. Treatment-related: an adverse "
                "event whose relation to the product is possible, probable or definite."
            ),
            BODY,
        ),
        *_lacking_flow(report),
    ]
    return a4_pdf(
        flow,
        settings=settings,
        title=_("Trial report %(trial)s", trial=report.trial_code),
        heading=_("Trial report %(trial)s", trial=report.trial_code),
        footer=_("Generated %(time)s", time=generated),
    )
