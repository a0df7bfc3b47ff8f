"""Release guards as pure functions over loaded facts: each blocking reason, with a stable code
and a sentence a QA person can act on (docs/architecture.md#guards,
docs/process.md#release-specification)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mfg import i18n
from mfg.errors import Reason, conflict, reason
from mfg.i18n import N_
from mfg.models import Deviation, Donor, DonorStatus, Dose, Harvest, Lot, LotStatus
from mfg.qc.summary import AWAITING_VERIFICATION, FAIL, MISSING, LotQc
from mfg.qc.words import QcText

STERILITY = ("STER-AER", "STER-ANA")
GRAM = "GRAM"


# A blocking reason is a refusing rule like any other (mfg.errors.Reason). Most are the state of the
# lot or of what it rests on (409); who releases and what kind of release is asked are the request's
# (422).
Blocking = Reason


@dataclass
class ReleaseFacts:
    lot: Lot
    donors: Sequence[Donor]
    qc: LotQc
    open_deviations: Sequence[Deviation]
    unsigned_steps: Sequence[str]
    harvest: Harvest | None
    max_passage: int
    max_cumulative_pd: float
    doses: Sequence[Dose]
    now: datetime
    releaser_id: int
    participants: dict[int, list[i18n.Text]] = field(
        default_factory=dict
    )  # user id → what they did


def lot_status_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """Only a filled lot in quarantine is released.

    Code: lot_not_in_quarantine
    Clause: 21 CFR 11.10(f)
    """
    if facts.lot.status != LotStatus.QUARANTINE:
        return [
            conflict(
                "lot_not_in_quarantine",
                "Lot %(din)s is %(status)s: only a filled lot in quarantine is released.",
                din=facts.lot.din,
                status=facts.lot.status.replace("_", " "),
            )
        ]
    return []


def donor_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """Every donor whose cells are in the lot is determined eligible.

    Code: donor_not_eligible
    Clause: 21 CFR 1271 subpart C; EU 2004/23/EC, 2006/17/EC
    """
    return [
        conflict(
            "donor_not_eligible",
            "Donor %(donor)s is %(status)s, not eligible.",
            donor=d.code,
            status=str(d.status),
        )
        for d in facts.donors
        if d.status != DonorStatus.ELIGIBLE
    ]


def test_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """Every required test of the specification has a final result, verified by a second
    analyst and within its acceptance criterion.

    Code: test_missing, result_out_of_specification
    Clause: EU GMP Annex 11 §6
    """
    found = []
    for row in facts.qc.blocking():
        code, test = row.test.code, row.test.name
        if row.state == MISSING:
            found.append(
                conflict(
                    "test_missing",
                    "Required test %(code)s (%(test)s) has no verified final result.",
                    code=code,
                    test=test,
                )
            )
        elif row.state == AWAITING_VERIFICATION:
            found.append(
                conflict(
                    "test_missing",
                    "Required test %(code)s (%(test)s): the result awaits a second analyst's "
                    "verification.",
                    code=code,
                    test=test,
                )
            )
        elif row.state == FAIL:
            found.append(
                conflict(
                    "result_out_of_specification",
                    "%(code)s (%(test)s): verified result out of specification (%(limit)s).",
                    code=code,
                    test=test,
                    limit=QcText(row.limit),
                )
            )
    return found


def deviation_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """No deviation of the lot, of its biopsies or of its culture vessels is open.

    Code: open_deviation
    Clause: —
    """
    return [
        conflict(
            "open_deviation",
            "Deviation %(code)s is %(status)s: %(title)s",
            code=d.code,
            status=str(d.status),
            title=d.title,
        )
        for d in facts.open_deviations
    ]


def signature_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """Every manufacturing step carries a valid signature of the content it signed.

    Code: step_unsigned
    Clause: 21 CFR 11.50, 11.70
    """
    return [
        conflict(
            "step_unsigned", "Manufacturing step without a valid signature: %(step)s.", step=step
        )
        for step in facts.unsigned_steps
    ]


def limit_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """The lot was harvested at or below the passage limit and the cumulative-PD limit.

    Code: not_harvested, limit_exceeded
    Clause: —
    """
    harvest = facts.harvest
    if harvest is None:
        return [conflict("not_harvested", "The lot has no harvest record.")]
    found = []
    if harvest.passage_number > facts.max_passage:
        found.append(
            conflict(
                "limit_exceeded",
                "Harvested at passage %(passage)s, beyond the limit of %(limit)s.",
                passage=harvest.passage_number,
                limit=facts.max_passage,
            )
        )
    if harvest.cumulative_pd is not None and harvest.cumulative_pd > facts.max_cumulative_pd:
        found.append(
            conflict(
                "limit_exceeded",
                "Cumulative PD %(pd)s beyond the limit of %(limit)s.",
                pd=format(harvest.cumulative_pd, ".2f"),
                limit=format(facts.max_cumulative_pd, "g"),
            )
        )
    return found


def expiry_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """The lot has filled doses and none has expired (a dose expiring at the moment of
    release has expired).

    Code: no_doses, lot_expired
    Clause: —
    """
    if not facts.doses:
        return [conflict("no_doses", "The lot has no filled doses.")]
    expired = [d for d in facts.doses if d.expires_at <= facts.now]
    if expired:
        first = min(d.expires_at for d in expired)
        # the count in the singular or plural (a translation sets the number apart)
        return [
            conflict(
                "lot_expired",
                N_("%(count)s dose expired (first on %(first)s).")
                if len(expired) == 1
                else N_("%(count)s doses expired (first on %(first)s)."),
                count=format(len(expired), ","),
                first=format(first, "%Y-%m-%d"),
            )
        ]
    return []


def label_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """Every dose's label was checked by scanning it back.

    Code: labels_not_verified
    Clause: —
    """
    unchecked = [d.division for d in facts.doses if d.label_verified_at is None]
    if unchecked:
        return [
            conflict(
                "labels_not_verified",
                "Labels not yet checked by scanning for doses %(doses)s.",
                doses=", ".join(unchecked),
            )
        ]
    return []


def independence_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """Who releases a lot took no part in making or testing it.

    Code: releaser_took_part
    Clause: —
    """
    did = facts.participants.get(facts.releaser_id)
    if did:
        return [
            reason(
                "releaser_took_part",
                "You took part in this lot (%(did)s): another QA person releases it.",
                did=i18n.Joined(tuple(sorted(set(did), key=str))),
            )
        ]
    return []


GUARDS = (
    lot_status_blocking,
    donor_blocking,
    test_blocking,
    deviation_blocking,
    signature_blocking,
    limit_blocking,
    expiry_blocking,
    label_blocking,
    independence_blocking,
)


def release_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """A lot is released only when none of the release guards above blocks it: every reason
    the lot cannot be released now, empty when it can.

    Code: lot_not_in_quarantine, donor_not_eligible, test_missing, result_out_of_specification,
    open_deviation, step_unsigned, not_harvested, limit_exceeded, no_doses, lot_expired,
    labels_not_verified, releaser_took_part
    Clause: EU GMP Annex 11 §15
    """
    return [b for guard in GUARDS for b in guard(facts)]


def completion_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """A conditional release becomes full only when the release's own rules hold (the final
    sterility results above all), the lot being released already aside.

    Code: donor_not_eligible, test_missing, result_out_of_specification, open_deviation,
    step_unsigned, not_harvested, limit_exceeded, no_doses, lot_expired, labels_not_verified,
    releaser_took_part
    Clause: EU GMP Annex 11 §15
    """
    return [b for b in release_blocking(facts) if b.code != "lot_not_in_quarantine"]


def conditional_release_blocking(facts: ReleaseFacts) -> list[Blocking]:
    """A lot is released conditionally only while its final sterility results are
    pending, on verified negative preliminary cultures and a negative Gram stain, every other
    release rule met (docs/process.md#release-specification).

    Code: conditional_not_applicable, preliminary_sterility_missing, gram_stain_missing
    Clause: —
    """
    rows = {row.test.code: row for row in facts.qc.rows}
    sterility_missing = {
        code for code in STERILITY if code in rows and rows[code].state in (MISSING,)
    }
    if not sterility_missing:
        return [
            Reason(
                "conditional_not_applicable",
                "Conditional release is for a lot whose final sterility result is pending; "
                "this lot has its sterility results.",
            )
        ]
    found = []
    for code in sorted(sterility_missing):
        preliminary = rows[code].preliminary
        if not preliminary or any(r.verdict == FAIL for r in preliminary):
            found.append(
                conflict(
                    "preliminary_sterility_missing",
                    "%(test)s: conditional release needs a verified negative preliminary culture.",
                    test=code,
                )
            )
    gram = rows.get(GRAM)
    if gram is None or gram.state != "pass":
        found.append(
            conflict(
                "gram_stain_missing", "Conditional release needs a verified negative Gram stain."
            )
        )
    others = [
        b
        for b in release_blocking(facts)
        if not (b.code == "test_missing" and any(code in b.message for code in sterility_missing))
    ]
    return found + others
