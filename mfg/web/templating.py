"""Jinja2 environment shared by every page, with the facility's clock and identity."""

import json
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from mfg import PRODUCT_NAME, __version__, i18n
from mfg.auth.permissions import Action, may
from mfg.db import PROJECT_ROOT
from mfg.models import Role
from mfg.quantities import counted
from mfg.web.language import language_of
from mfg.web.security import csrf_token
from mfg.web.urls import record_url

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.i18n")
# The templates' _() and ngettext() read the language of the request being rendered (mfg.i18n).
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.raw_gettext, i18n.raw_ngettext, newstyle=True, pgettext=i18n.pgettext
)
# A text made elsewhere (a flash, a label passed to a macro) in the reader's language, where the
# catalog has it: unlike _(), never read as a format string.
templates.env.filters["tr"] = i18n.raw_gettext


def as_is(value: object) -> Markup:
    """A value people typed or configured (a material's name, the facility's name), shown as
    they wrote it in any language, and marked so (``data-as-is``) for the test that reads every
    page in Russian."""
    return Markup('<span data-as-is="">{}</span>').format(value)


templates.env.filters["as_is"] = as_is
templates.env.filters["number"] = i18n.format_number

templates.env.filters["role_name"] = lambda role: i18n.gettext(Role(role).label)
templates.env.filters["percent"] = i18n.format_percent
templates.env.globals.update(product_name=PRODUCT_NAME, version=__version__, record_url=record_url)
templates.env.filters["fromjson"] = json.loads


templates.env.filters["counted"] = counted

# What each kind of signed record is called above its signature: a lot's page shows the
# signatures of its pooling, passages, harvest, fill and cryopreservation, all "Performed".
SIGNED_RECORDS = {
    "lot": i18n.N_("Pooling"),
    "lot_passage": i18n.N_("Lot passage"),
    "harvest": i18n.N_("Harvest and formulation"),
    "fill": i18n.N_("Fill into doses"),
    "storage": i18n.N_("Cryopreservation"),
    "eligibility": i18n.N_("Donor eligibility"),
    "lot_release": i18n.N_("Lot release"),
    "bedside_check": i18n.N_("Bedside check"),
    "audit_review": i18n.N_("Audit-trail review"),
    "qc_result": i18n.N_("QC result"),
    "qc_sample": i18n.N_("QC sample"),
    "material": i18n.N_("Material lot"),
    "adverse_event": i18n.N_("Adverse event"),
    "culture": i18n.N_("Culture"),
    "passage": i18n.N_("Passage"),
    "thaw": i18n.N_("Thaw"),
    "infusion": i18n.N_("Infusion"),
    "outcome": i18n.N_("Day-21 outcome"),
    "deviation": i18n.N_("Deviation"),
    "dose_order": i18n.N_("Dose order"),
    "lookback_hold": i18n.N_("Look-back hold"),
    "specification": i18n.N_("Specification"),
    "user_roles": i18n.N_("User roles"),
}


def signed_record(entity_type: str) -> str:
    """The kind of record a signature signs, in words: "harvest" -> "Harvest and formulation"."""
    known = SIGNED_RECORDS.get(entity_type)
    return i18n.gettext(known) if known else entity_type.replace("_", " ").capitalize()


templates.env.filters["signed_record"] = signed_record


# The status words every badge shows, for extraction (pgettext "status"): the English is the
# status code with spaces, as the badges always read.
STATUS_WORDS = (
    i18n.pgettext_noop("status", "active"),
    i18n.pgettext_noop("status", "allocated"),
    i18n.pgettext_noop("status", "approved"),
    i18n.pgettext_noop("status", "available"),
    i18n.pgettext_noop("status", "awaiting"),
    i18n.pgettext_noop("status", "cancelled"),
    i18n.pgettext_noop("status", "closed"),
    i18n.pgettext_noop("status", "collected"),
    i18n.pgettext_noop("status", "complete"),
    i18n.pgettext_noop("status", "completed"),
    i18n.pgettext_noop("status", "conditionally released"),
    i18n.pgettext_noop("status", "discarded"),
    i18n.pgettext_noop("status", "draft"),
    i18n.pgettext_noop("status", "eligible"),
    i18n.pgettext_noop("status", "enrolled"),
    i18n.pgettext_noop("status", "entered"),
    i18n.pgettext_noop("status", "harvested"),
    i18n.pgettext_noop("status", "in culture"),
    i18n.pgettext_noop("status", "in process"),
    i18n.pgettext_noop("status", "ineligible"),
    i18n.pgettext_noop("status", "infused"),
    i18n.pgettext_noop("status", "invalidated"),
    i18n.pgettext_noop("status", "investigated"),
    i18n.pgettext_noop("status", "issued"),
    i18n.pgettext_noop("status", "on hold"),
    i18n.pgettext_noop("status", "open"),
    i18n.pgettext_noop("status", "passaged"),
    i18n.pgettext_noop("status", "pooled"),
    i18n.pgettext_noop("status", "quarantine"),
    i18n.pgettext_noop("status", "quarantined"),
    i18n.pgettext_noop("status", "recalled"),
    i18n.pgettext_noop("status", "received"),
    i18n.pgettext_noop("status", "registered"),
    i18n.pgettext_noop("status", "rejected"),
    i18n.pgettext_noop("status", "released"),
    i18n.pgettext_noop("status", "returned"),
    i18n.pgettext_noop("status", "superseded"),
    i18n.pgettext_noop("status", "verified"),
    i18n.pgettext_noop("status", "withdrawn"),
    i18n.pgettext_noop("status", "release completed"),
    i18n.pgettext_noop("status", "hold lifted"),
)


def status_text(status: str) -> str:
    """A status code as its badge reads it, in the reader's language: "in_process" ->
    "IN PROCESS", "В ПРОИЗВОДСТВЕ"."""
    return i18n.pgettext("status", str(status).replace("_", " ")).upper()


templates.env.filters["status_text"] = status_text


def format_local(value: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the facility reads it: local date and time with the zone's name, in
    the reader's order (mfg.i18n.format_datetime)."""
    return i18n.format_datetime(value, tz, fmt)


templates.env.filters["day"] = i18n.format_day


def flash(request: Request, message: str, kind: str = "ok", /, **params: object) -> None:
    """A message shown once on the next page (after a redirect): a catalog message, its
    ``%(name)s`` ``params`` filled in the reader's language now, or translated when shown."""
    shown = i18n.localize(message, params) if params else message
    request.session.setdefault("flash", []).append({"message": shown, "kind": kind})


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the settings and a facility-local time formatter in its context."""
    settings = request.app.state.settings
    page_context = {
        "settings": settings,
        "user": getattr(request.state, "user", None),
        # every record's page links to its chain of identity for those who may see it
        "may_trace": may(getattr(request.state, "user", None), Action.VIEW_MANUFACTURING),
        "csrf_token": csrf_token(request) if "session" in request.scope else "",
        "localtime": lambda value, fmt="%Y-%m-%d %H:%M": format_local(value, settings.tz, fmt),
        "flashes": request.session.pop("flash", []) if "session" in request.scope else [],
        **(context or {}),
    }
    language = language_of(request)
    page_context["language"] = language
    with i18n.use_language(language):
        return templates.TemplateResponse(request, name, page_context, status_code=status_code)
