"""The rules about persons that every domain shares: a critical entry is checked by a second
person. One guard, here, below every domain that verifies an entry (donor marker results, QC
results, a patient's weight), so that each of them asks the same function."""

from __future__ import annotations

from mfg.errors import Reason, reason
from mfg.i18n import N_


def second_person_verifies(
    entered_by_id: int | None,
    verifier_id: int | None,
    *,
    entry: str = N_("this result"),
    asks: str = N_("a second person must verify it"),
) -> Reason | None:
    """A critical entry is verified by a second person, never by the one who entered it.

    ``entry`` names what was entered ("this weight") and ``asks`` what is needed instead ("a
    second analyst must verify it"), for the sentence the person who entered it reads: catalog
    messages (marked with ``N_``), so that the reader gets them in their language.

    Code: second_person_required
    Clause: 21 CFR 211.194(a)(8); EU GMP Annex 11 §6
    """
    if entered_by_id is not None and entered_by_id == verifier_id:
        return reason(
            "second_person_required", "You entered %(entry)s: %(asks)s.", entry=entry, asks=asks
        )
    return None
