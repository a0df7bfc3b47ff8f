"""The donor and biopsy rules as pure functions over loaded data; each returns every reason that
blocks, with its rule's code and in words (an empty list means nothing blocks).
docs/regulation.md#donor-eligibility, docs/process.md#biopsy-receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from mfg.errors import Reason, conflict, reason
from mfg.i18n import N_
from mfg.models import Biopsy, BiopsyStatus, Donor, DonorStatus, MarkerOutcome, MarkerResult
from mfg.models import ResultStatus as RS


@dataclass(frozen=True)
class MarkerSpec:
    code: str
    name: str
    required: bool


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def consent_and_screening_problems(donor: Donor) -> list[Reason]:
    """A donor's consent and a passed screening questionnaire are recorded.

    Code: consent_missing, screening_missing, screening_failed
    Clause: 21 CFR 1271 subpart C; EU 2004/23/EC, 2006/17/EC
    """
    problems = []
    if donor.consent_date is None:
        problems.append(conflict("consent_missing", "Consent is not recorded."))
    if donor.screening_outcome is None:
        problems.append(
            conflict("screening_missing", "The screening questionnaire outcome is not recorded.")
        )
    elif donor.screening_outcome != "passed":
        problems.append(
            conflict("screening_failed", "The donor did not pass the screening questionnaire.")
        )
    return problems


def marker_problems(markers: Sequence[MarkerSpec], results: Sequence[MarkerResult]) -> list[Reason]:
    """Every required marker has a result verified by a second person, and it is negative;
    any verified reactive result, required or not, blocks too.

    Code: marker_result_missing, marker_not_verified, marker_reactive
    Clause: 21 CFR 1271 subpart C; EU 2006/17/EC; EU GMP Annex 11 §6
    """
    problems = []
    live = [r for r in results if r.status != RS.INVALIDATED]
    for marker in markers:
        mine = [r for r in live if r.marker_code == marker.code]
        verified = [r for r in mine if r.status == RS.VERIFIED]
        if marker.required and not mine:
            problems.append(
                conflict(
                    "marker_result_missing", "No %(marker)s result is recorded.", marker=marker.name
                )
            )
        elif marker.required and not verified:
            problems.append(
                conflict(
                    "marker_not_verified",
                    "The %(marker)s result is not yet verified by a second person.",
                    marker=marker.name,
                )
            )
        for result in verified:
            if result.outcome != MarkerOutcome.NEGATIVE:
                problems.append(
                    conflict(
                        "marker_reactive",
                        "%(marker)s is %(outcome)s (sample of %(sample_date)s).",
                        marker=marker.name,
                        outcome=str(result.outcome),
                        sample_date=result.sample_date.isoformat(),
                    )
                )
    return problems


def _outside_window(days: int, window_days: int) -> str:
    """The sample-window refusal with its day counts in the singular or plural (a translation
    sets each number apart, whatever its grammatical number)."""
    if days == 1:  # only with a window of 0 days
        return N_(
            "The %(marker)s sample of %(sample_date)s was taken %(days)s day from the collection "
            "of biopsy %(din)s (%(collected)s); at most ±%(window)s days are allowed."
        )
    if window_days == 1:
        return N_(
            "The %(marker)s sample of %(sample_date)s was taken %(days)s days from the "
            "collection of biopsy %(din)s (%(collected)s); at most ±%(window)s day are allowed."
        )
    return N_(
        "The %(marker)s sample of %(sample_date)s was taken %(days)s days from the collection "
        "of biopsy %(din)s (%(collected)s); at most ±%(window)s days are allowed."
    )


def sample_window_problems(
    markers: Sequence[MarkerSpec],
    results: Sequence[MarkerResult],
    biopsies: Sequence[Biopsy],
    *,
    window_days: int,
    tz: tzinfo,
) -> list[Reason]:
    """Every verified sample of a required marker was taken within ±window days of each
    biopsy's collection (the window's last day included).

    Code: biopsy_missing, sample_outside_window
    Clause: 21 CFR 1271 subpart C; EU 2006/17/EC
    """
    if not biopsies:
        return [
            conflict(
                "biopsy_missing",
                "No biopsy is registered: the marker samples cannot be dated against a collection.",
            )
        ]
    required = {m.code: m.name for m in markers if m.required}
    problems = []
    window = timedelta(days=window_days)
    for biopsy in biopsies:
        collected = local_date(biopsy.collected_at, tz)
        for result in results:
            if result.status != RS.VERIFIED or result.marker_code not in required:
                continue
            if abs(result.sample_date - collected) > window:
                days = abs((result.sample_date - collected).days)
                problems.append(
                    conflict(
                        "sample_outside_window",
                        _outside_window(days, window_days),
                        marker=required[result.marker_code],
                        sample_date=result.sample_date.isoformat(),
                        days=format(days, ","),
                        din=biopsy.din,
                        collected=collected.isoformat(),
                        window=format(window_days, ","),
                    )
                )
    return problems


def eligibility_problems(
    donor: Donor,
    markers: Sequence[MarkerSpec],
    results: Sequence[MarkerResult],
    biopsies: Sequence[Biopsy],
    *,
    window_days: int,
    tz: tzinfo,
) -> list[Reason]:
    """A donor is determined eligible once, with consent, a passed screening, negative
    verified markers and samples within the window.

    Code: eligibility_already_determined, consent_missing, screening_missing, screening_failed,
    marker_result_missing, marker_not_verified, marker_reactive, biopsy_missing,
    sample_outside_window
    Clause: 21 CFR 1271 subpart C; EU 2004/23/EC, 2006/17/EC
    """
    problems = []
    if donor.status != DonorStatus.REGISTERED:
        problems.append(
            conflict(
                "eligibility_already_determined",
                "The donor's eligibility was already determined (%(status)s).",
                status=str(donor.status),
            )
        )
    problems += consent_and_screening_problems(donor)
    problems += marker_problems(markers, results)
    problems += sample_window_problems(markers, results, biopsies, window_days=window_days, tz=tz)
    return problems


def receipt_problems(
    *,
    collected_at: datetime,
    received_at: datetime,
    limit_hours: float,
    container_intact: bool,
    deviation_note: str,
) -> list[Reason]:
    """A biopsy received beyond the collection-to-receipt limit or in a damaged container is
    accepted only with a deviation note; never silently. (The receipt time itself is checked
    where it is read: ``quantities.check_event_time``.)

    Code: deviation_note_required
    Clause: —
    """
    problems = []
    hours = (received_at - collected_at).total_seconds() / 3600
    note = deviation_note.strip()
    if hours > limit_hours and not note:
        problems.append(
            reason(
                "deviation_note_required",
                "Received %(hours)s h after collection, beyond the %(limit)s h limit: a "
                "deviation note is required.",
                hours=format(hours, ".1f"),
                limit=format(limit_hours, "g"),
            )
        )
    if not container_intact and not note:
        problems.append(
            Reason(
                "deviation_note_required",
                "The container was not intact: a deviation note is required.",
            )
        )
    return problems


def culture_start_problems(donor: Donor, biopsy: Biopsy) -> list[Reason]:
    """Only a received biopsy of an eligible donor, not on hold, enters culture: until the
    donor is determined eligible the biopsy is in quarantine.

    Code: biopsy_not_received, donor_not_eligible, biopsy_on_hold
    Clause: 21 CFR 1271 subpart C; EU 2004/23/EC
    """
    problems = []
    if biopsy.status != BiopsyStatus.RECEIVED:
        problems.append(
            conflict(
                "biopsy_not_received",
                "Biopsy %(din)s is %(status)s; only a received biopsy can enter culture.",
                din=biopsy.din,
                status=str(biopsy.status),
            )
        )
    if donor.status == DonorStatus.REGISTERED:
        problems.append(
            conflict(
                "donor_not_eligible",
                "Donor %(donor)s is not yet determined eligible: the biopsy is in quarantine.",
                donor=donor.code,
            )
        )
    elif donor.status == DonorStatus.INELIGIBLE:
        problems.append(
            conflict(
                "donor_not_eligible",
                "Donor %(donor)s is ineligible: their material may not be used.",
                donor=donor.code,
            )
        )
    if biopsy.on_hold:
        problems.append(
            conflict(
                "biopsy_on_hold",
                "Biopsy %(din)s is on hold: %(reason)s",
                din=biopsy.din,
                reason=biopsy.hold_reason,
            )
        )
    return problems
