"""What the donor pages show and which of their actions they offer, built outside the routers:
the donors, a donor, a biopsy.

A page's ``offers`` is the set of actions it offers the reader: from the row's state machine (a
donor is determined eligible or ineligible while registered; a biopsy is received while
collected), the permission table and the guards (eligibility is offered only when nothing blocks
it; no step on an ineligible donor). Each marker result has its own offers (``entry_offers``:
verify, invalidate, or awaiting a second person). The templates only ask whether an action is
offered.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from mfg import quantities
from mfg.audit.machines import BIOPSY, DONOR, MARKER_RESULT
from mfg.audit.service import history
from mfg.auth.permissions import Action, may
from mfg.donors import biopsies, eligibility, service
from mfg.donors.scan_and_label import quarantine_text
from mfg.errors import Reason
from mfg.identifiers.isbt128 import Din
from mfg.models import (
    Biopsy,
    BiopsyStatus,
    Donor,
    DonorStatus,
    MarkerOutcome,
    MarkerResult,
    User,
)
from mfg.signatures import service as signatures
from mfg.signatures.offers import entry_offers


def donors_view(session: Session, *, actor: User, status: str) -> dict[str, Any]:
    """The donors, and whether registering one is offered."""
    items, total = service.list_donors(session, actor=actor, status=status or None, limit=500)
    return {
        "donors": items,
        "total": total,
        "status": status,
        "offers": frozenset({"register"}) if may(actor, Action.REGISTER_DONORS) else frozenset(),
        "birth_years": quantities.birth_year_bounds(service.local_today(session).year),
    }


def donor_offers(donor: Donor, actor: User, *, blocking: list[Reason]) -> frozenset[str]:
    """What the donor page offers ``actor``:

    - ``screen`` (consent and screening questionnaire) while the donor is registered;
    - ``enter_result`` and ``register_biopsy`` while the donor is not ineligible;
    - ``sign_ineligible`` while the donor may still be determined (registered), and
      ``sign_eligible`` too when nothing in ``blocking`` (the eligibility check) blocks it;

    each to the roles the permission table names."""
    offers: set[str] = set()
    if donor.status == DonorStatus.REGISTERED and may(actor, Action.REGISTER_DONORS):
        offers.add("screen")
    if donor.status != DonorStatus.INELIGIBLE:
        if may(actor, Action.ENTER_MARKER_RESULTS):
            offers.add("enter_result")
        if may(actor, Action.REGISTER_BIOPSIES):
            offers.add("register_biopsy")
    if DONOR.can_move(donor, DonorStatus.ELIGIBLE) and may(actor, Action.DETERMINE_ELIGIBILITY):
        offers.add("sign_ineligible")
        if not blocking:
            offers.add("sign_eligible")
    return frozenset(offers)


def result_offers(result: MarkerResult, actor: User) -> frozenset[str]:
    """What the donor page offers ``actor`` on one marker result (``entry_offers``)."""
    return entry_offers(
        MARKER_RESULT,
        result,
        actor,
        verify=Action.VERIFY_MARKER_RESULTS,
        invalidate=Action.ENTER_MARKER_RESULTS,
    )


def donor_view(session: Session, *, actor: User, donor: Donor) -> dict[str, Any]:
    """A donor: markers and results with what each offers, determinations with their signatures,
    what blocks eligibility, biopsies, history, and the actions offered."""
    version, markers = service.current_marker_set(session)
    results = service.results_of(session, donor)
    determinations = eligibility.determinations_of(session, donor)
    rows, _ = biopsies.list_biopsies_of(session, donor)
    blocking = (
        eligibility.eligibility_check(session, donor)
        if donor.status == DonorStatus.REGISTERED
        else []
    )
    return {
        "donor": donor,
        "markers": markers,
        "marker_version": version.version,
        "results": results,
        "biopsies": rows,
        "determinations": [
            (d, signatures.shown(session, entity_type="eligibility", entity_id=d.id))
            for d in determinations
        ],
        "outcomes": list(MarkerOutcome),
        "blocking": blocking,
        "events": history(session, entity_type="donor", entity_id=donor.code),
        "users": {u.id: u.full_name for u in session.exec(select(User)).all()},
        "offers": donor_offers(donor, actor, blocking=blocking),
        "entry_offers": {r.id: result_offers(r, actor) for r in results},
        "actor": actor,
    }


def biopsy_offers(biopsy: Biopsy, actor: User) -> frozenset[str]:
    """``receive`` while the biopsy may become received (it is collected) and ``actor`` receives
    biopsies; ``print_labels``."""
    offers: set[str] = set()
    if BIOPSY.can_move(biopsy, BiopsyStatus.RECEIVED) and may(actor, Action.RECEIVE_BIOPSIES):
        offers.add("receive")
    if may(actor, Action.PRINT_LABELS):
        offers.add("print_labels")
    return frozenset(offers)


def biopsy_view(session: Session, *, actor: User, biopsy: Biopsy) -> dict[str, Any]:
    """A biopsy: its donor, DIN, quarantine state, history and the actions offered."""
    donor = session.get(Donor, biopsy.donor_id)
    return {
        "biopsy": biopsy,
        "donor": donor,
        "din": Din.parse(biopsy.din),
        "status_text": quarantine_text(donor, biopsy),
        "events": history(session, entity_type="biopsy", entity_id=biopsy.din),
        "offers": biopsy_offers(biopsy, actor),
        "transport_bounds": quantities.BIOPSY_TRANSPORT_TEMP_C,
    }
