"""JSON API for donors and biopsies (docs/architecture.md#list-and-read, plus the use cases)."""

import json
from typing import Annotated

from fastapi import Depends, Query
from sqlmodel import Session

from mfg.auth.permissions import Action
from mfg.donors import biopsies, eligibility, service
from mfg.donors.schemas import (
    BiopsyCreate,
    BiopsyList,
    BiopsyPublic,
    ConsentIn,
    DonorCreate,
    DonorDetail,
    DonorList,
    DonorPublic,
    EligibilityIn,
    MarkerSetIn,
    MarkerSetPublic,
    ReasonIn,
    ReceiptIn,
    ResultIn,
    ResultPublic,
    ScreeningIn,
)
from mfg.models import Biopsy, Donor, MarkerSetVersion, User
from mfg.web.deps import Router, SessionDep
from mfg.web.security import Allow

router = Router(prefix="/api", tags=["donors"])
Viewer = Annotated[User, Depends(Allow(Action.VIEW_DONORS))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def detail(session: Session, donor: Donor) -> DonorDetail:
    rows, _ = biopsies.list_biopsies_of(session, donor)
    return DonorDetail(
        **DonorPublic.of(donor).model_dump(),
        results=[ResultPublic.of(r) for r in service.results_of(session, donor)],
        biopsies=[BiopsyPublic.of(b, donor) for b in rows],
        eligibility_blocking=[b.message for b in eligibility.eligibility_check(session, donor)]
        if donor.status == "registered"
        else [],
    )


def biopsy_public(session: Session, biopsy: Biopsy) -> BiopsyPublic:
    return BiopsyPublic.of(biopsy, session.get(Donor, biopsy.donor_id))


@router.get("/donors", response_model=DonorList)
def donors(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DonorList:
    items, total = service.list_donors(
        session, actor=actor, status=status, limit=limit, offset=offset
    )
    return DonorList(items=[DonorPublic.of(d) for d in items], total=total)


@router.post("/donors", response_model=DonorPublic, status_code=201)
def register(
    body: DonorCreate,
    actor: Annotated[User, Depends(Allow(Action.REGISTER_DONORS))],
    session: SessionDep,
) -> DonorPublic:
    return DonorPublic.of(service.register_donor(session, actor=actor, command=body))


@router.get("/donors/{code}", response_model=DonorDetail)
def read(code: str, actor: Viewer, session: SessionDep) -> DonorDetail:
    return detail(session, service.get_donor(session, code))


@router.post("/donors/{code}/consent", response_model=DonorPublic)
def consent(
    code: str,
    body: ConsentIn,
    actor: Annotated[User, Depends(Allow(Action.REGISTER_DONORS))],
    session: SessionDep,
) -> DonorPublic:
    donor = service.get_donor(session, code)
    return DonorPublic.of(service.record_consent(session, actor=actor, donor=donor, command=body))


@router.post("/donors/{code}/screening", response_model=DonorPublic)
def screening(
    code: str,
    body: ScreeningIn,
    actor: Annotated[User, Depends(Allow(Action.REGISTER_DONORS))],
    session: SessionDep,
) -> DonorPublic:
    donor = service.get_donor(session, code)
    return DonorPublic.of(service.record_screening(session, actor=actor, donor=donor, command=body))


@router.post("/donors/{code}/results", response_model=ResultPublic, status_code=201)
def enter_result(
    code: str,
    body: ResultIn,
    actor: Annotated[User, Depends(Allow(Action.ENTER_MARKER_RESULTS))],
    session: SessionDep,
) -> ResultPublic:
    result = service.enter_result(
        session, actor=actor, donor=service.get_donor(session, code), command=body
    )
    return ResultPublic.of(result)


@router.post("/marker-results/{result_id}/verify", response_model=ResultPublic)
def verify_result(
    result_id: int,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_MARKER_RESULTS))],
    session: SessionDep,
) -> ResultPublic:
    return ResultPublic.of(
        service.verify_result(session, actor=actor, result=service.get_result(session, result_id))
    )


@router.post("/marker-results/{result_id}/invalidate", response_model=ResultPublic)
def invalidate_result(
    result_id: int,
    body: ReasonIn,
    actor: Annotated[User, Depends(Allow(Action.ENTER_MARKER_RESULTS))],
    session: SessionDep,
) -> ResultPublic:
    result = service.invalidate_result(
        session, actor=actor, result=service.get_result(session, result_id), command=body
    )
    return ResultPublic.of(result)


@router.post("/donors/{code}/eligibility", response_model=DonorDetail)
def determine(
    code: str,
    body: EligibilityIn,
    actor: Annotated[User, Depends(Allow(Action.DETERMINE_ELIGIBILITY))],
    session: SessionDep,
) -> DonorDetail:
    donor = service.get_donor(session, code)
    eligibility.determine_eligibility(session, actor=actor, donor=donor, command=body)
    return detail(session, donor)


@router.get("/biopsies", response_model=BiopsyList)
def biopsy_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> BiopsyList:
    items, total = biopsies.list_biopsies(
        session, actor=actor, status=status, limit=limit, offset=offset
    )
    return BiopsyList(items=[biopsy_public(session, b) for b in items], total=total)


@router.post("/biopsies", response_model=BiopsyPublic, status_code=201)
def register_biopsy(
    body: BiopsyCreate,
    actor: Annotated[User, Depends(Allow(Action.REGISTER_BIOPSIES))],
    session: SessionDep,
) -> BiopsyPublic:
    donor = service.get_donor(session, body.donor)
    biopsy = biopsies.register_biopsy(session, actor=actor, donor=donor, command=body)
    return biopsy_public(session, biopsy)


@router.get("/biopsies/{din}", response_model=BiopsyPublic)
def biopsy_read(din: str, actor: Viewer, session: SessionDep) -> BiopsyPublic:
    return biopsy_public(session, biopsies.get_biopsy(session, din))


@router.post("/biopsies/{din}/receive", response_model=BiopsyPublic)
def receive(
    din: str,
    body: ReceiptIn,
    actor: Annotated[User, Depends(Allow(Action.RECEIVE_BIOPSIES))],
    session: SessionDep,
) -> BiopsyPublic:
    biopsy = biopsies.receive_biopsy(
        session, actor=actor, biopsy=biopsies.get_biopsy(session, din), command=body
    )
    return biopsy_public(session, biopsy)


def _marker_set_public(version: MarkerSetVersion) -> MarkerSetPublic:
    return MarkerSetPublic(
        version=version.version,
        markers=json.loads(version.markers),
        note=version.note,
        created_at=version.created_at,
    )


@router.get("/marker-set", response_model=MarkerSetPublic)
def marker_set(actor: Viewer, session: SessionDep) -> MarkerSetPublic:
    """The marker set in force (seeded from mfg/defaults/markers.toml as version 1)."""
    version, _ = service.current_marker_set(session)
    return _marker_set_public(version)


@router.post("/marker-set", response_model=MarkerSetPublic, status_code=201)
def new_marker_set(
    body: MarkerSetIn,
    actor: Annotated[User, Depends(Allow(Action.MANAGE_MARKER_SET))],
    session: SessionDep,
) -> MarkerSetPublic:
    """QA changes the marker list as a new version; determinations keep the version they used."""
    version = service.new_marker_set_version(session, actor=actor, command=body)
    return _marker_set_public(version)
