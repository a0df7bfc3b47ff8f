"""The application factory: settings, database engine, routers, static files, error handlers."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from mfg import PRODUCT_NAME, __version__
from mfg.config import Settings, get_settings
from mfg.db import engine_from_settings
from mfg.web import api as web_api
from mfg.web import pages as web_pages
from mfg.web.errors import install_error_handlers
from mfg.web.templating import STATIC_DIR


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title=PRODUCT_NAME,
        version=__version__,
        summary="Manufacturing and lot-release tracker for a pooled OM-MSC cell therapy",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine or engine_from_settings(settings)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(web_pages.router)
    app.include_router(web_api.router)
    return app
