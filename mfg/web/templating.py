"""Jinja2 environment shared by every page, with the facility's clock and identity."""

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from mfg import PRODUCT_NAME, __version__
from mfg.db import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals.update(product_name=PRODUCT_NAME, version=__version__)


def format_local(value: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the facility reads it: local date and time with the zone's name."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    return f"{local.strftime(fmt)} {local.tzname()}"


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the settings and a facility-local time formatter in its context."""
    settings = request.app.state.settings
    page_context = {
        "settings": settings,
        "localtime": lambda value, fmt="%Y-%m-%d %H:%M": format_local(value, settings.tz, fmt),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, page_context, status_code=status_code)
