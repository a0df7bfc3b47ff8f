"""The chain of identity on a small real history: two pools sharing no donor, doses infused
into two patients (docs/regulation.md#look-back: from any dose every donor, from any donor every
patient)."""

import pytest
from sqlmodel import Session, col, select

from mfg.models import Donor, Dose, MaterialLot, MaterialUse, PoolMember
from mfg.trace.service import build_trace, trace
from tests.factories import PASSWORD, bearer


def _codes(trace, kind: str) -> set[str]:
    return {n.identifier for n in trace.of_kind(kind)}


def test_trace_from_each_dose_names_exactly_its_pools_donors_and_from_each_donor_its_patients(
    engine, history
) -> None:
    with Session(engine) as session:
        for lot, dose, patient in history.values():
            from_dose = build_trace(session, kind="dose", identifier=dose.identifier)
            from_lot = build_trace(session, kind="lot", identifier=lot.din)
            assert _codes(from_dose, "donor") == _codes(from_lot, "donor")
            assert len(_codes(from_dose, "donor")) == 2
            assert _codes(from_dose, "patient") == {patient.code}
            for donor in _codes(from_dose, "donor"):
                from_donor = build_trace(session, kind="donor", identifier=donor)
                assert _codes(from_donor, "patient") == {patient.code}
                assert _codes(from_donor, "lot") == {lot.din}
            from_patient = build_trace(session, kind="patient", identifier=patient.code)
            assert _codes(from_patient, "donor") == _codes(from_dose, "donor")


def test_a_material_lots_trace_finds_every_lot_that_used_it(engine, history) -> None:
    lot_a = history["a"][0]
    with Session(engine) as session:
        used = session.exec(select(MaterialUse).where(MaterialUse.step_type == "culture")).all()
        for use in used:
            material = session.get(MaterialLot, use.material_id)
            found = build_trace(session, kind="material", identifier=material.code)
            assert found.of_kind("lot"), material.code
        first = session.get(MaterialLot, used[0].material_id)
        assert _codes(build_trace(session, kind="material", identifier=first.code), "lot") == {
            lot_a.din
        }


def _uses(session) -> list[tuple[str, str, int]]:
    """Every material use as (material code, "culture" or "lot", id of the vessel or lot whose
    step used it), read step by step."""
    from mfg.models import Harvest, LotPassage, Passage

    owners = {
        "culture": lambda step_id: ("culture", step_id),
        "passage": lambda step_id: ("culture", session.get(Passage, step_id).culture_id),
        "lot_passage": lambda step_id: ("lot", session.get(LotPassage, step_id).lot_id),
        "harvest": lambda step_id: ("lot", session.get(Harvest, step_id).lot_id),
    }
    return [
        (session.get(MaterialLot, use.material_id).code, *owners[use.step_type](use.step_id))
        for use in session.exec(select(MaterialUse))
    ]


def test_a_donors_trace_lists_the_material_lots_its_vessels_and_lots_used(engine, history) -> None:
    from mfg.models import Culture

    with Session(engine) as session:
        uses = _uses(session)
        for lot, _, _ in history.values():
            member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
            donor = session.get(Donor, member.donor_id)
            vessels = set(
                session.exec(select(Culture.id).where(Culture.biopsy_id == member.biopsy_id))
            )
            expected = {
                code
                for code, kind, owner in uses
                if (kind, owner) in {("lot", lot.id)} | {("culture", v) for v in vessels}
            }
            found = build_trace(session, kind="donor", identifier=donor.code)
            assert expected and _codes(found, "material") == expected
            assert not found.materials_omitted
            lot_steps = {code for code, kind, owner in uses if (kind, owner) == ("lot", lot.id)}
            assert {f"material:{code}" for code in lot_steps} <= {
                up for up, down in found.edges if down == f"lot:{lot.din}"
            }


def test_trace_over_the_api_and_the_page(client, history) -> None:
    lot, dose, patient = history["b"]
    headers = bearer(client, "qa")
    body = client.get(f"/api/trace/{dose.identifier}", headers=headers).json()
    assert body["root"]["kind"] == "dose" and len(body["donors"]) == 2
    assert [p["identifier"] for p in body["patients"]] == [patient.code]
    by_scan = client.get(f"/api/trace/{patient.code}", headers=headers).json()
    assert {d["identifier"] for d in by_scan["donors"]} == {d["identifier"] for d in body["donors"]}
    from tests.factories import log_in

    log_in(client, "qa")
    page = client.get(f"/trace/{lot.din}")
    assert page.status_code == 200 and "<svg" in page.text and patient.code in page.text


def test_the_trace_answer_is_the_published_schema_in_the_order_of_its_keys(client, history) -> None:
    from mfg.trace.api import TracePublic

    lot, dose, patient = history["b"]
    response = client.get(f"/api/trace/{lot.din}", headers=bearer(client, "qa"))
    assert response.headers["content-type"] == "application/json"
    answer = TracePublic.model_validate_json(response.content, strict=True)
    assert response.json() == answer.model_dump(mode="json")  # no field more, none less
    keys = [f"{n.kind}:{n.identifier}" for n in answer.nodes]
    assert keys == sorted(keys) and answer.root.url == f"/lots/{lot.din}"
    assert {(n.kind, n.identifier) for n in answer.patients} == {("patient", patient.code)}
    assert [n.kind for n in answer.donors] == ["donor", "donor"]
    assert f"/doses/{dose.identifier}" in {n.url for n in answer.nodes}
    assert set(map(tuple, response.json()["edges"])) <= {(a, b) for a in keys for b in keys}
    schema = client.get("/api/openapi.json").json()["paths"]["/api/trace/{code}"]["get"]
    assert schema["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TracePublic"
    }


def test_look_back_puts_exactly_the_unused_affected_doses_on_hold_and_is_audited(
    lab, engine, history
) -> None:
    from mfg.models import AuditEvent, DoseStatus
    from mfg.trace import lookback

    lot_a = history["a"][0]
    lot_b = history["b"][0]
    with Session(engine) as session:
        donor = session.exec(select(PoolMember).where(PoolMember.lot_id == lot_b.id)).first()
        from mfg.models import Donor

        code = session.get(Donor, donor.donor_id).code
        before = {d.identifier: d.status for d in session.exec(select(Dose))}
    result = lab.run(
        "qa",
        lambda s, a: lookback.hold_affected(
            s,
            actor=a,
            kind="donor",
            identifier=code,
            reason="donor HIV NAT reactive",
            password=PASSWORD,
        ),
    )
    assert [n.patient.code for n in result.notifications] == [history["b"][2].code]
    with Session(engine) as session:
        after = {d.identifier: d.status for d in session.exec(select(Dose))}
        held = {i for i in after if after[i] != before[i]}
        assert held == {d.identifier for d in result.held}
        assert all(after[i] == DoseStatus.ON_HOLD for i in held)
        assert all(i.startswith(lot_b.din) for i in held)  # lot A's doses are left alone
        assert after[history["b"][1].identifier] == DoseStatus.INFUSED
        assert (
            session.exec(select(AuditEvent).where(AuditEvent.action == "lookback.hold"))
            .one()
            .entity_id
            == code
        )
    assert lot_a.din not in {lot.din for lot in result.lots}


def test_the_look_back_page_lists_patients_to_notify(client, lab, engine, history) -> None:
    from mfg.models import Donor
    from tests.factories import log_in

    lot_a, _, patient_a = history["a"]
    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot_a.id)).first()
        code = session.get(Donor, member.donor_id).code
    log_in(client, "qa")
    page = client.get(f"/lookback/donor/{code}")
    assert page.status_code == 200 and patient_a.code in page.text
    assert 'id="lookback-dialog"' not in page.text  # lot A's only dose was infused: nothing to hold
    csv_text = client.get(f"/lookback/donor/{code}/notifications.csv").text
    assert patient_a.code in csv_text and "treating clinician" in csv_text


def test_beyond_the_dose_limit_a_trace_counts_doses_per_lot_and_lists_only_those_infused(
    client, engine, history, monkeypatch
) -> None:
    from mfg.models import Biopsy, Culture
    from mfg.trace import builder

    lot, dose, patient = history["b"]  # two doses: one infused, one available
    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        donor = session.get(Donor, member.donor_id).code
        biopsy = session.get(Biopsy, member.biopsy_id).din
        biopsies = select(Biopsy.id).where(Biopsy.donor_id == member.donor_id)
        vessels = set(
            session.exec(select(Culture.code).where(col(Culture.biopsy_id).in_(biopsies)))
        )
        pooled = {session.get(Culture, member.culture_id).code}
        full = build_trace(session, kind="donor", identifier=donor)
        monkeypatch.setattr(builder, "DOSE_NODE_LIMIT", 1)
        summarised = build_trace(session, kind="donor", identifier=donor)
        from_dose = build_trace(session, kind="lot", identifier=lot.din)
    assert not full.doses_summarised and len(_codes(full, "dose")) == 2
    assert summarised.doses_summarised and _codes(summarised, "dose") == {dose.identifier}
    assert summarised.dose_counts == full.dose_counts == {lot.din: {"infused": 1, "available": 1}}
    assert _codes(summarised, "patient") == _codes(full, "patient") == {patient.code}
    assert summarised.doses_total == 2 and from_dose.doses_summarised
    # the material lots used downstream are left to each lot's batch record; upstream stay
    assert _codes(full, "material") and not full.materials_omitted
    assert summarised.materials_omitted and not _codes(summarised, "material")
    assert _codes(from_dose, "material") and not from_dose.materials_omitted
    # the vessels are counted, each lot linked to the biopsy it comes from; a lot's trace lists
    # its own vessels
    assert _codes(full, "culture") == vessels and not full.cultures_omitted
    assert not _codes(summarised, "culture") and summarised.cultures_omitted == len(vessels)
    assert (f"biopsy:{biopsy}", f"lot:{lot.din}") in summarised.edges
    assert _codes(summarised, "biopsy") == _codes(full, "biopsy")
    assert pooled <= _codes(from_dose, "culture") and not from_dose.cultures_omitted
    body = client.get(f"/api/trace/{donor}", headers=bearer(client, "qa")).json()
    assert body["doses_summarised"] and body["doses_total"] == 2
    assert body["dose_counts"] == {lot.din: {"infused": 1, "available": 1}}
    assert body["materials_omitted"] and body["cultures_omitted"] == len(vessels)
    from tests.factories import log_in

    log_in(client, "qa")
    page = client.get(f"/trace/{donor}").text
    assert 'id="doses-summarised"' in page and "1 available, 1 infused" in page
    assert "material lots used downstream are not listed" in page
    assert 'id="cultures-omitted"' in page and "linked to the biopsy it comes from" in page


def test_beyond_the_dose_limit_the_vessels_are_counted_and_each_lot_linked_to_the_record_traced(
    lab, engine, monkeypatch
) -> None:
    """Beyond the dose limit the vessels grown on the way are counted, not listed, whatever the
    trace starts from; each lot is linked to the vessel or material lot traced from (from a
    donor, to the biopsy it comes from). Here a primary culture passaged into two vessels, one
    pooled into a lot of two doses: over a limit of one dose."""
    from mfg.models import Biopsy
    from mfg.trace import builder
    from tests.manufacturing.factories import (
        culture_of_eligible_donor,
        fill,
        harvest,
        passage,
        pool,
        released_medium,
    )

    medium = released_medium(lab)
    primary, other = culture_of_eligible_donor(lab, medium), culture_of_eligible_donor(lab)
    _, children = passage(lab, primary, medium)
    lot = pool(lab, (children[0], 2_000_000), (other, 2_000_000), hours_ago=20)
    harvest(lab, lot)
    fill(lab, lot, count=2)
    vessels = {primary.code, *(c.code for c in children)}
    traced = {"culture": primary.code, "material": medium.code}
    with Session(engine) as session:
        biopsy = session.get(Biopsy, primary.biopsy_id)
        traced["donor"] = session.get(Donor, biopsy.donor_id).code
        full = {kind: build_trace(session, kind=kind, identifier=i) for kind, i in traced.items()}
        monkeypatch.setattr(builder, "DOSE_NODE_LIMIT", 1)
        summarised = {
            kind: build_trace(session, kind=kind, identifier=i) for kind, i in traced.items()
        }
    for kind in traced:
        assert _codes(full[kind], "culture") == vessels and not full[kind].cultures_omitted
        assert summarised[kind].doses_summarised
        assert _codes(summarised[kind], "lot") == _codes(full[kind], "lot") == {lot.din}
        assert summarised[kind].dose_counts == full[kind].dose_counts
    # the vessel traced from, and the one that used the material, stay listed
    assert _codes(summarised["culture"], "culture") == {primary.code}
    assert _codes(summarised["material"], "culture") == {primary.code}
    assert not _codes(summarised["donor"], "culture")
    assert [summarised[kind].cultures_omitted for kind in traced] == [2, 2, 3]
    ups = {
        kind: {up for up, down in summarised[kind].edges if down == f"lot:{lot.din}"}
        for kind in traced
    }
    assert ups == {
        "culture": {f"culture:{primary.code}"},
        "material": {f"material:{medium.code}"},
        "donor": {f"biopsy:{biopsy.din}"},
    }
    # upstream stays whole: the vessel's donor, and its biopsy
    assert _codes(summarised["culture"], "donor") == {traced["donor"]}


@pytest.mark.parametrize("cost", [0, 10**6], ids=["through-the-infusions", "from-the-lots"])
def test_a_summarised_trace_reads_the_same_infused_doses_through_the_infusions_or_the_lots(
    engine, history, monkeypatch, cost
) -> None:
    """Beyond the dose limit the infused doses are read whichever way walks fewer rows: through
    the trial's infusions when they are few beside the traced doses, else from the lots."""
    from mfg.trace import builder

    lot, dose, patient = history["b"]  # two doses: one infused, one available
    monkeypatch.setattr(builder, "DOSE_NODE_LIMIT", 1)
    monkeypatch.setattr(builder, "INFUSION_COST", cost)
    through_infusions = []
    read = builder.Builder.infused_of_traced_lots

    def reading(self, doses):
        given = read(self, doses)
        through_infusions.append(given is not None)
        return given

    monkeypatch.setattr(builder.Builder, "infused_of_traced_lots", reading)
    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        donor = session.get(Donor, member.donor_id).code
        result = build_trace(session, kind="donor", identifier=donor)
    assert through_infusions == [cost == 0]
    assert result.doses_summarised and _codes(result, "dose") == {dose.identifier}
    assert _codes(result, "patient") == {patient.code}
    assert (f"lot:{lot.din}", f"dose:{dose.identifier}") in result.edges
    assert (f"dose:{dose.identifier}", f"patient:{patient.code}") in result.edges


def test_a_trace_keeps_its_records_where_the_collector_does_not_walk(engine, history) -> None:
    """Records and edges are strings in dictionaries and lists, not an object each: after a
    donor's trace (20,000 records) the cyclic collector had 40,000 tuples to walk."""
    import gc

    lot, dose, patient = history["b"]
    with Session(engine) as session:
        member = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).first()
        donor = session.get(Donor, member.donor_id).code
        result = build_trace(session, kind="donor", identifier=donor)
    columns = [*result.statuses.values(), *result.details.values(), *result.dose_counts.values()]
    assert result.statuses["dose"] and result.details["culture"] and result.dose_counts
    assert not any(map(gc.is_tracked, columns))
    assert not any(map(gc.is_tracked, gc.get_referents(*columns, result.ups, result.downs)))
    # read back as nodes and edges, the same graph
    assert result.node(f"dose:{dose.identifier}") == (
        "dose",
        dose.identifier,
        "infused",
        dose.division,
    )
    assert (f"dose:{dose.identifier}", f"patient:{patient.code}") in result.edges
    assert len(result.nodes) == result.node_count
    assert {key for edge in result.edges for key in edge} <= set(result.nodes)


def test_the_collector_is_paused_during_a_trace_its_answer_and_page_and_resumed_once_freed(
    client, engine, history, monkeypatch
) -> None:
    import gc
    import weakref

    from mfg.errors import NotFound
    from mfg.trace import api, pages

    lot, dose, patient = history["b"]
    seen, traced, freed = [], [], []
    answer, enable = api.trace_answer, gc.enable

    class Answer(dict):  # a dict that a weak reference can follow
        pass

    def answering(result):
        seen.append(gc.isenabled())
        written = Answer(answer(result))
        traced.extend((weakref.ref(result), weakref.ref(written)))
        return written

    def resuming():  # the trace and its answer are freed before the collector resumes
        freed.append(all(ref() is None for ref in traced))
        enable()

    monkeypatch.setattr(api, "trace_answer", answering)
    monkeypatch.setattr(gc, "enable", resuming)
    body = client.get(f"/api/trace/{dose.identifier}", headers=bearer(client, "qa")).json()
    monkeypatch.setattr(gc, "enable", enable)
    assert body["patients"][0]["identifier"] == patient.code
    assert seen == [False] and freed == [True] and gc.isenabled()
    from tests.factories import log_in

    log_in(client, "qa")
    page, traced[:], freed[:] = pages.render, [], []
    monkeypatch.setattr(pages, "render", lambda *a: seen.append(gc.isenabled()) or page(*a))
    monkeypatch.setattr(
        pages, "trace", lambda *a, **k: traced.append(weakref.ref(t := trace(*a, **k))) or t
    )
    monkeypatch.setattr(gc, "enable", resuming)
    text = client.get(f"/trace/{dose.identifier}").text
    monkeypatch.setattr(gc, "enable", enable)
    assert patient.code in text
    assert seen == [False, False] and freed == [True] and gc.isenabled()
    with Session(engine) as session:
        with pytest.raises(NotFound):
            build_trace(session, kind="dose", identifier="no such dose")
        assert gc.isenabled()  # resumed after a failure too
        gc.disable()  # paused by someone else: left paused
        try:
            build_trace(session, kind="lot", identifier=lot.din)
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_a_vessel_pooled_while_its_donor_is_traced_leaves_the_trace_as_it_began(
    lab, engine, monkeypatch
) -> None:
    """On PostgreSQL each statement of a trace reads the database as it is when the statement
    starts: a vessel pooled between the reading of the lots and that of the vessels goes into a
    lot the trace has not read. The trace stays as it began, with no error: the vessel, without
    that lot; the next trace has both."""
    from mfg.models import Biopsy
    from mfg.trace import builder
    from tests.manufacturing.factories import culture_of_eligible_donor, pool

    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    with Session(engine) as session:
        donor = session.get(Donor, session.get(Biopsy, first.biopsy_id).donor_id).code
    read_vessels = builder.Builder.cultures_of
    pooled = []

    def pooling_meanwhile(self, vessels, biopsies):
        pooled.append(pool(lab, (first, 2_000_000), (second, 2_000_000)))  # and committed
        return read_vessels(self, vessels, biopsies)

    monkeypatch.setattr(builder.Builder, "cultures_of", pooling_meanwhile)
    with Session(engine) as session:
        during = build_trace(session, kind="donor", identifier=donor)
    assert pooled and _codes(during, "culture") == {first.code} and not _codes(during, "lot")
    monkeypatch.undo()
    with Session(engine) as session:
        after = build_trace(session, kind="donor", identifier=donor)
    assert _codes(after, "lot") == {pooled[0].din}
    assert (f"culture:{first.code}", f"lot:{pooled[0].din}") in after.edges
