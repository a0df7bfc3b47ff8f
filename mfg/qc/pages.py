"""QC pages: the worklist, result entry by scanning the sample, the lot's QC summary,
deviations, and specifications."""

import tomllib
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg.auth.permissions import Action
from mfg.deviations import service as deviations
from mfg.deviations.schemas import DeviationIn
from mfg.errors import InvalidInput
from mfg.manufacturing.pools import get_lot
from mfg.models import (
    QcSample,
    User,
)
from mfg.qc import results, samples, specs, views
from mfg.qc.schemas import ResultIn
from mfg.web.deps import Router, SessionDep
from mfg.web.forms import local_datetime, local_now_input
from mfg.web.security import Allow
from mfg.web.templating import flash, render

router = Router()
Viewer = Annotated[User, Depends(Allow(Action.VIEW_QC))]
Text = Annotated[str, Form(max_length=200)]
LongText = Annotated[str, Form(max_length=4000)]
When = Annotated[str, Form(max_length=32)]


@router.get("/qc", response_class=HTMLResponse, name="qc_worklist")
def worklist(request: Request, actor: Viewer, session: SessionDep) -> Response:
    """Samples awaiting results, and results awaiting a second analyst's verification."""
    context = views.worklist_view(session, actor=actor)
    context["now_local"] = local_now_input(request)
    return render(request, "qc/worklist.html", context)


@router.post("/qc/samples")
def sample_take(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.TAKE_SAMPLES))],
    session: SessionDep,
    source: Text,
    tests: Text,
    taken_at: When,
) -> Response:
    sample = samples.take_sample(
        session,
        actor=actor,
        source=source,
        tests=tests.replace(",", " ").split(),
        taken_at=local_datetime(request, taken_at, "taken_at"),
    )
    flash(request, "Sample %(sample)s taken: print its label.", "ok", sample=sample.code)
    return RedirectResponse(f"/qc/samples/{sample.code}", status_code=303)


@router.get("/qc/samples/{code}", response_class=HTMLResponse, name="qc_sample")
def sample_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    sample = samples.get_sample(session, code)
    context = views.sample_view(session, actor=actor, sample=sample)
    context["now_local"] = local_now_input(request)
    return render(request, "qc/sample.html", context)


@router.post("/qc/samples/{code}/results")
def result_enter(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.ENTER_QC_RESULTS))],
    session: SessionDep,
    command: Annotated[ResultIn, Form()],
) -> Response:
    sample = samples.get_sample(session, code)
    result = results.enter_result(session, actor=actor, sample=sample, command=command)
    flash(
        request,
        "%(test)s: %(value)s — %(verdict)s.",
        "ok",
        test=result.test_code,
        value=results.shown_value(result),
        verdict=result.verdict.upper(),
    )
    return RedirectResponse(f"/qc/samples/{sample.code}", status_code=303)


@router.post("/qc/results/{result_id}/verify")
def result_verify(
    result_id: int,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_QC_RESULTS))],
    session: SessionDep,
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    result = results.verify_result(
        session, actor=actor, result=results.get_result(session, result_id)
    )
    if result.verdict == "fail":
        flash(
            request,
            "%(test)s verified. Out of specification: a deviation was opened.",
            "ok",
            test=result.test_code,
        )
    else:
        flash(request, "%(test)s verified.", "ok", test=result.test_code)
    sample = session.get(QcSample, result.sample_id)
    return RedirectResponse(
        "/qc" if back == "worklist" else f"/qc/samples/{sample.code}", status_code=303
    )


@router.post("/qc/results/{result_id}/invalidate")
def result_invalidate(
    result_id: int,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.INVALIDATE_QC_RESULTS))],
    session: SessionDep,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    result = results.invalidate_result(
        session, actor=actor, result=results.get_result(session, result_id), reason=reason
    )
    flash(request, "%(test)s invalidated; it no longer counts.", "ok", test=result.test_code)
    return RedirectResponse(
        f"/qc/samples/{session.get(QcSample, result.sample_id).code}", status_code=303
    )


@router.get("/lots/{din}/qc", response_class=HTMLResponse, name="lot_qc")
def lot_qc_page(din: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    context = views.lot_qc_view(session, actor=actor, lot=get_lot(session, din))
    context["now_local"] = local_now_input(request)
    return render(request, "qc/lot_qc.html", context)


@router.get("/deviations", response_class=HTMLResponse, name="deviations")
def deviations_page(
    request: Request, actor: Viewer, session: SessionDep, status: str = ""
) -> Response:
    context = views.deviations_view(session, actor=actor, status=status)
    return render(request, "qc/deviations.html", context)


@router.post("/deviations")
def deviation_open(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.OPEN_DEVIATIONS))],
    session: SessionDep,
    command: Annotated[DeviationIn, Form()],
) -> Response:
    lot = get_lot(session, command.lot) if (command.lot or "").strip() else None
    deviation = deviations.open_deviation(session, actor=actor, command=command, lot=lot)
    flash(request, "Deviation %(code)s opened.", "ok", code=deviation.code)
    return RedirectResponse(f"/deviations/{deviation.code}", status_code=303)


@router.get("/deviations/{code}", response_class=HTMLResponse, name="deviation")
def deviation_page(code: str, request: Request, actor: Viewer, session: SessionDep) -> Response:
    deviation = deviations.get_deviation(session, code)
    context = views.deviation_view(session, actor=actor, deviation=deviation)
    return render(request, "qc/deviation.html", context)


@router.post("/deviations/{code}/investigation")
def deviation_investigate(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.OPEN_DEVIATIONS))],
    session: SessionDep,
    impact_assessment: LongText = "",
    root_cause: LongText = "",
    corrective_action: LongText = "",
) -> Response:
    deviation = deviations.investigate(
        session,
        actor=actor,
        deviation=deviations.get_deviation(session, code),
        impact_assessment=impact_assessment,
        root_cause=root_cause,
        corrective_action=corrective_action,
    )
    flash(request, "Investigation of %(code)s recorded: QA closes it.", "ok", code=deviation.code)
    return RedirectResponse(f"/deviations/{deviation.code}", status_code=303)


@router.post("/deviations/{code}/close")
def deviation_close(
    code: str,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.CLOSE_DEVIATIONS))],
    session: SessionDep,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    deviation = deviations.close(
        session, actor=actor, deviation=deviations.get_deviation(session, code), password=password
    )
    flash(request, "Deviation %(code)s closed.", "ok", code=deviation.code)
    return RedirectResponse(f"/deviations/{deviation.code}", status_code=303)


@router.get("/specifications", response_class=HTMLResponse, name="specifications")
def specifications_page(request: Request, actor: Viewer, session: SessionDep) -> Response:
    context = {"specs": specs.list_specs(session, actor=actor)}
    return render(request, "qc/specifications.html", context)


@router.get("/specifications/{version}", response_class=HTMLResponse, name="specification")
def specification_page(
    version: int, request: Request, actor: Viewer, session: SessionDep
) -> Response:
    context = views.specification_view(session, actor=actor, spec=specs.get_spec(session, version))
    return render(request, "qc/specification.html", context)


@router.post("/specifications")
def specification_draft(
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.MANAGE_SPECIFICATIONS))],
    session: SessionDep,
    title: Text,
    tests: Annotated[str, Form(max_length=40000)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        parsed = tomllib.loads(tests).get("tests", [])
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(
            "The tests are not valid TOML: %(error)s",
            params={"error": str(error)},
            details={"field": "tests"},
        ) from error
    spec = specs.create_draft(session, actor=actor, title=title, note=note, tests=parsed)
    flash(
        request,
        "Version %(version)s drafted: review it, then approve it with a signature.",
        "ok",
        version=spec.version,
    )
    return RedirectResponse(f"/specifications/{spec.version}", status_code=303)


@router.post("/specifications/{version}/approve")
def specification_approve(
    version: int,
    request: Request,
    actor: Annotated[User, Depends(Allow(Action.MANAGE_SPECIFICATIONS))],
    session: SessionDep,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    spec = specs.approve(
        session, actor=actor, spec=specs.get_spec(session, version), password=password
    )
    flash(
        request,
        "Version %(version)s approved: in force for lots pooled from now.",
        "ok",
        version=spec.version,
    )
    return RedirectResponse(f"/specifications/{spec.version}", status_code=303)
