"""The application factory: settings, database engine, routers, static files, error handlers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from mfg import PRODUCT_NAME, __version__
from mfg.audit.chain import derive_key
from mfg.audit_review import api as audit_review_api
from mfg.audit_review import pages as audit_review_pages
from mfg.clinical import api as clinical_api
from mfg.clinical import outcome_api as clinical_outcome_api
from mfg.clinical import outcome_pages as clinical_outcome_pages
from mfg.clinical import pages as clinical_pages
from mfg.config import Settings, get_settings
from mfg.db import engine_from_settings
from mfg.donors import api as donors_api
from mfg.donors import pages as donors_pages
from mfg.identifiers import api as identifiers_api
from mfg.identifiers import pages as identifiers_pages
from mfg.identifiers.display import code_html
from mfg.labeling import api as labeling_api
from mfg.labeling import pages as labeling_pages
from mfg.manufacturing import api as manufacturing_api
from mfg.manufacturing import lot_pages as manufacturing_lot_pages
from mfg.manufacturing import material_api as manufacturing_material_api
from mfg.manufacturing import pages as manufacturing_pages
from mfg.qc import api as qc_api
from mfg.qc import pages as qc_pages
from mfg.qc.words import qc_text
from mfg.record_kinds import build_label_sources, build_resolver
from mfg.release import api as release_api
from mfg.release import pages as release_pages
from mfg.trace import api as trace_api
from mfg.trace import fhir_api
from mfg.trace import lookback_api as trace_lookback_api
from mfg.trace import pages as trace_pages
from mfg.users import api as users_api
from mfg.users import pages as users_pages
from mfg.web import api as web_api
from mfg.web import pages as web_pages
from mfg.web.admission import admit
from mfg.web.edge import refuse_hostile_input
from mfg.web.errors import install_error_handlers
from mfg.web.headers import SecurityHeaders
from mfg.web.inline import InlineFormRedirects
from mfg.web.openapi import install_openapi
from mfg.web.security import csrf_protect
from mfg.web.templating import STATIC_DIR, templates
from mfg.worklist_tasks import build_worklist

# Every router of the application, in the order they are matched. Only this module imports them.
ROUTERS = (
    web_pages.router,
    web_api.router,
    identifiers_pages.router,
    identifiers_api.router,
    labeling_pages.router,
    labeling_api.router,
    manufacturing_pages.router,
    manufacturing_lot_pages.router,
    manufacturing_api.router,
    manufacturing_material_api.router,
    qc_pages.router,
    qc_api.router,
    release_pages.router,
    release_api.router,
    clinical_pages.router,
    clinical_api.router,
    clinical_outcome_pages.router,
    clinical_outcome_api.router,
    trace_pages.router,
    trace_api.router,
    fhir_api.router,
    trace_lookback_api.router,
    donors_pages.router,
    donors_api.router,
    users_pages.router,
    users_api.router,
    audit_review_pages.router,
    audit_review_api.router,
)
SESSION_COOKIE = "mfg_session"
SESSION_MAX_AGE_S = 12 * 3600  # the cookie's; the login session record's end is fixed at login


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The thread pool runs every request's database work; the engine's pool has a
        # connection for each of its threads (mfg.db.make_engine).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title=PRODUCT_NAME,
        version=__version__,
        summary="Manufacturing and lot-release tracker for a pooled OM-MSC cell therapy",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        dependencies=[
            Depends(admit, scope="function"),
            Depends(refuse_hostile_input),
            Depends(csrf_protect),
        ],
    )
    app.state.settings = settings
    app.state.engine = engine or engine_from_settings(settings)
    app.state.resolver = build_resolver()
    app.state.label_sources = build_label_sources()
    app.state.worklist = build_worklist()
    templates.env.filters["code"] = code_html  # how people read each kind of code
    templates.env.filters["qc_text"] = qc_text  # a stored QC value or limit in the reader's words
    # Innermost first: the session cookie set by a form's redirect rides on its inline answer.
    app.add_middleware(InlineFormRedirects)
    app.add_middleware(
        SessionMiddleware,
        secret_key=derive_key(settings.effective_secret_key(), "session-cookie").hex(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(SecurityHeaders, https=settings.cookie_secure)  # outermost: every answer
    install_error_handlers(app)
    install_openapi(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    return app
