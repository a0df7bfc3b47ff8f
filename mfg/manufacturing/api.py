"""JSON API of manufacturing: the list/read contract of docs/architecture.md#list-and-read for
cultures, lots and doses, and each bench step as a use case (material lots: ``material_api``)."""

from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response

from mfg.auth.permissions import Action
from mfg.manufacturing import batchrecord_pdf, cultures, doses, lots, pools, storage
from mfg.manufacturing.schemas import (
    CultureList,
    CulturePublic,
    CultureStart,
    DoseList,
    DosePublic,
    FillIn,
    HarvestIn,
    HarvestPublic,
    LabelCheckIn,
    LotList,
    LotPassageIn,
    LotPassagePublic,
    LotPublic,
    PassageIn,
    PassagePublic,
    PoolIn,
    PoolMemberPublic,
    StorageIn,
    ThawIn,
)
from mfg.models import Biopsy, Culture, Dose, Harvest, Lot, LotPassage, User
from mfg.web.deps import Router, SessionDep, WriteSessionDep
from mfg.web.openapi import PDF, binary
from mfg.web.security import Allow

router = Router(prefix="/api", tags=["manufacturing"])
Viewer = Annotated[User, Depends(Allow(Action.VIEW_MANUFACTURING))]


def culture_public(session, culture: Culture) -> CulturePublic:
    parent = session.get(Culture, culture.parent_id) if culture.parent_id else None
    return CulturePublic(
        identifier=culture.code,
        code=culture.code,
        status=culture.status,
        biopsy=session.get(Biopsy, culture.biopsy_id).din,
        parent=parent.code if parent else None,
        passage_number=culture.passage_number,
        vessel_type=culture.vessel_type,
        surface_cm2=culture.surface_cm2,
        seeded_cells=culture.seeded_cells,
        seeded_at=culture.seeded_at,
        cumulative_pd=culture.cumulative_pd,
    )


@router.get("/cultures", response_model=CultureList)
def culture_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CultureList:
    items, total = cultures.list_cultures(
        session, actor=actor, status=status, limit=limit, offset=offset
    )
    return CultureList(items=[culture_public(session, c) for c in items], total=total)


@router.get("/cultures/{code}", response_model=CulturePublic)
def culture_read(code: str, actor: Viewer, session: SessionDep) -> CulturePublic:
    return culture_public(session, cultures.get_culture(session, code))


@router.post("/cultures", response_model=CulturePublic, status_code=201)
def culture_start(
    body: CultureStart,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
) -> CulturePublic:
    culture = cultures.start_primary_culture(session, actor=actor, command=body)
    return culture_public(session, culture)


@router.post("/cultures/{code}/passage", response_model=PassagePublic, status_code=201)
def culture_passage(
    code: str,
    body: PassageIn,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
) -> PassagePublic:
    culture = cultures.get_culture(session, code)
    record, children = cultures.record_passage(session, actor=actor, culture=culture, command=body)
    return PassagePublic(
        culture=culture.code,
        harvested_cells=record.harvested_cells,
        viability_pct=record.viability_pct,
        population_doublings=record.population_doublings,
        cumulative_pd=record.cumulative_pd,
        doubling_time_h=record.doubling_time_h,
        viability_below_spec=record.viability_below_spec,
        new_vessels=[c.code for c in children],
    )


def lot_public(session, lot: Lot) -> LotPublic:
    members = [
        PoolMemberPublic(
            culture=c.code,
            biopsy=b.din,
            donor=d.code,
            donor_status=d.status,
            cells_contributed=m.cells_contributed,
        )
        for m, c, b, d in pools.member_rows(session, lot)
    ]
    record = lots.harvest_of(session, lot)
    return LotPublic(
        identifier=lot.din,
        din=lot.din,
        status=lot.status,
        pooled_at=lot.pooled_at,
        total_cells=lot.total_cells,
        spec_version=lot.spec_version,
        passage_number=lot.passage_number,
        cumulative_pd=lot.cumulative_pd,
        members=members,
        passages=[lot_passage_public(p) for p in lots.passages_of(session, lot)],
        harvest=harvest_public(record) if record else None,
        doses=[d.identifier for d in doses.doses_of(session, lot)],
    )


def lot_passage_public(record: LotPassage) -> LotPassagePublic:
    return LotPassagePublic.model_validate(record, from_attributes=True)


def harvest_public(record: Harvest) -> HarvestPublic:
    return HarvestPublic.model_validate(record, from_attributes=True)


@router.get("/lots", response_model=LotList)
def lot_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> LotList:
    items, total = pools.list_lots(session, actor=actor, status=status, limit=limit, offset=offset)
    return LotList(items=[lot_public(session, lot) for lot in items], total=total)


@router.get("/lots/{din}", response_model=LotPublic)
def lot_read(din: str, actor: Viewer, session: SessionDep) -> LotPublic:
    return lot_public(session, pools.get_lot(session, din))


@router.post("/lots", response_model=LotPublic, status_code=201)
def lot_pool(
    body: PoolIn, actor: Annotated[User, Depends(Allow(Action.POOL_CULTURES))], session: SessionDep
) -> LotPublic:
    """Pool cultures of ≥ 2 eligible donors into a new lot (new DIN), signed "Performed"."""
    return lot_public(session, pools.pool_cultures(session, actor=actor, command=body))


Maker = Annotated[User, Depends(Allow(Action.HARVEST_AND_FILL))]


@router.post("/lots/{din}/passages", response_model=LotPassagePublic, status_code=201)
def lot_passage(
    din: str,
    body: LotPassageIn,
    actor: Annotated[User, Depends(Allow(Action.PERFORM_CULTURE_STEPS))],
    session: SessionDep,
) -> LotPassagePublic:
    """Expansion of the lot: harvest and re-seed; refused if the lot is no longer at
    ``passage_number`` (a colleague recorded it meanwhile)."""
    lot = pools.get_lot(session, din)
    return lot_passage_public(lots.record_lot_passage(session, actor=actor, lot=lot, command=body))


@router.post("/lots/{din}/harvest", response_model=HarvestPublic, status_code=201)
def lot_harvest(din: str, body: HarvestIn, actor: Maker, session: SessionDep) -> HarvestPublic:
    """Final harvest and formulation; refused beyond the passage or cumulative-PD limit."""
    lot = pools.get_lot(session, din)
    return harvest_public(lots.harvest_lot(session, actor=actor, lot=lot, command=body))


@router.post("/lots/{din}/fill", response_model=DoseList, status_code=201)
def lot_fill(din: str, body: FillIn, actor: Maker, session: SessionDep) -> DoseList:
    """Fill the harvested lot into doses (divisions A0, B0, …), all in quarantine."""
    filled = doses.fill_lot(session, actor=actor, lot=pools.get_lot(session, din), command=body)
    return DoseList(items=[dose_public(session, d) for d in filled], total=len(filled))


@router.post("/lots/{din}/storage", response_model=DoseList)
def lot_storage(
    din: str,
    body: StorageIn,
    actor: Annotated[User, Depends(Allow(Action.STORE_DOSES))],
    session: SessionDep,
) -> DoseList:
    """Cryopreserve the lot's filled doses into consecutive positions of one box."""
    lot = pools.get_lot(session, din)
    stored = storage.cryopreserve_lot(session, actor=actor, lot=lot, command=body)
    return DoseList(items=[dose_public(session, d) for d in stored], total=len(stored))


def dose_public(session, dose: Dose) -> DosePublic:
    return DosePublic(
        identifier=dose.identifier,
        status=dose.status,
        lot=session.get(Lot, dose.lot_id).din,
        product_code=dose.product_code,
        division=dose.division,
        cells=dose.cells,
        volume_ml=dose.volume_ml,
        container=dose.container,
        filled_at=dose.filled_at,
        expires_at=dose.expires_at,
        frozen_at=dose.frozen_at,
        location=storage.location_text(dose) if dose.tank else None,
        storage_temp_c=dose.storage_temp_c,
        thawed_at=dose.thawed_at,
        label_verified_at=dose.label_verified_at,
    )


DoseViewer = Annotated[User, Depends(Allow(Action.VIEW_DOSES))]


@router.get("/doses", response_model=DoseList)
def dose_list(
    actor: DoseViewer,
    session: SessionDep,
    status: str | None = None,
    lot: Annotated[str | None, Query(max_length=13, description="a lot's DIN")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DoseList:
    items, total = doses.list_doses(
        session,
        actor=actor,
        status=status,
        lot=pools.get_lot(session, lot) if lot else None,
        limit=limit,
        offset=offset,
    )
    return DoseList(items=[dose_public(session, d) for d in items], total=total)


@router.get("/doses/{identifier}", response_model=DosePublic)
def dose_read(identifier: str, actor: DoseViewer, session: SessionDep) -> DosePublic:
    return dose_public(session, doses.get_dose(session, identifier))


@router.post("/doses/{identifier}/thaw", response_model=DosePublic)
def dose_thaw(
    identifier: str,
    body: ThawIn,
    actor: Annotated[User, Depends(Allow(Action.THAW_DOSES))],
    session: SessionDep,
) -> DosePublic:
    dose = doses.get_dose(session, identifier)
    return dose_public(session, storage.thaw_dose(session, actor=actor, dose=dose, command=body))


@router.get(
    "/lots/{din}/batch-record.pdf",
    name="batch_record_pdf",
    response_class=Response,
    responses=binary(PDF, "The batch record of the lot, with every signature."),
)
def batch_record_pdf(din: str, actor: Viewer, session: WriteSessionDep) -> Response:
    """The batch record as PDF; each export is an audit event with the copy's SHA-256."""
    lot = pools.get_lot(session, din)
    content = batchrecord_pdf.export_batch_record_pdf(session, actor=actor, lot=lot)
    headers = {"content-disposition": f'inline; filename="batch-record-{lot.din}.pdf"'}
    return Response(content, media_type="application/pdf", headers=headers)


@router.post("/doses/{identifier}/label-check", response_model=DosePublic)
def dose_label_check(
    identifier: str,
    body: LabelCheckIn,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_LABELS))],
    session: SessionDep,
) -> DosePublic:
    """The printed label, scanned back (its 2-D code), matches the dose: release waits for it."""
    dose = doses.get_dose(session, identifier)
    return dose_public(session, doses.verify_label(session, actor=actor, dose=dose, command=body))
