"""The message catalogs: extract, update, compile and check (``mfg i18n …``), with Babel.

The template (``messages.pot``) holds every message the code and the templates mark; each
language's catalog (``locale/<language>/LC_MESSAGES/messages.po``) its translations, compiled to
``messages.mo`` beside it, which the package ships. Adding a language is a new catalog:
``mfg i18n init xx``, then translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from mfg.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE

PROJECT_ROOT = LOCALE_DIR.parent.parent.parent
MAPPING = LOCALE_DIR.parent / "babel.cfg"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
# Markers besides gettext's own: N_ (translate where shown), and gettext with parameters.
MARKERS = ("N_", "pgettext_noop:1c,2")
# A refusal's sentence is its catalog message: the first argument of every error of the family
# (mfg.errors.MfgError and its subclasses, listed here; tests/i18n keeps the list whole), the
# second of a rule's reason.
REFUSALS = (
    "AccountInactive",
    "AccountLocked",
    "Ambiguous",
    "BadCheckCharacter",
    "BadLength",
    "BadRequest",
    "Busy",
    "CheckpointInvalid",
    "CheckpointRefused",
    "Conflict",
    "CsrfFailed",
    "DemoRefused",
    "FhirExportError",
    "InternalError",
    "InvalidCredentials",
    "InvalidInput",
    "LabelBarcodeMismatch",
    "LabelTextDoesNotFit",
    "LabelTextMismatch",
    "LayoutError",
    "MethodNotAllowed",
    "MfgError",
    "NotAuthenticated",
    "NotFound",
    "PasswordChangeRequired",
    "PermissionDenied",
    "ReprintReasonRequired",
    "ScanError",
    "ScanNotFound",
    "SessionExpired",
    "SignatureRefused",
    "TooManyAttempts",
    "UnknownStructure",
)
REASONS = ("Reason:2", "reason:2", "conflict:2", "one:2", "state:2")
# A page's message after a redirect (mfg.web.templating.flash).
FLASHES = ("flash:2",)
KEYWORDS = MARKERS + REFUSALS + REASONS + FLASHES
# Languages whose catalog must be complete: a page shown in them may hold no English.
COMPLETE = ("ru",)


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def catalog_path(language: str, suffix: str = "po") -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.{suffix}"


def extract() -> Path:
    """Write the template of every marked message, from the code and the templates."""
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    _babel(
        "extract",
        "-F",
        str(MAPPING),
        *keywords,
        "--no-location",
        "--sort-output",
        "--project",
        "mfg",
        "-o",
        str(TEMPLATE),
        str(PROJECT_ROOT),
    )
    return TEMPLATE


def init(language: str) -> Path:
    """A new, empty catalog for ``language``."""
    _babel("init", "-i", str(TEMPLATE), "-d", str(LOCALE_DIR), "-D", DOMAIN, "-l", language)
    return catalog_path(language)


def update() -> None:
    """Bring every catalog in line with the template: new messages empty, changed ones fuzzy."""
    _babel(
        "update",
        "-i",
        str(TEMPLATE),
        "-d",
        str(LOCALE_DIR),
        "-D",
        DOMAIN,
        "--no-wrap",
        "--ignore-obsolete",
    )


def compile_all(directory: Path = LOCALE_DIR) -> None:
    """Compile every catalog to the ``.mo`` the application reads (fuzzy entries are left out)."""
    _babel("compile", "-d", str(directory), "-D", DOMAIN, "--statistics")


@dataclass
class Gaps:
    language: str
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the template, not in the catalog

    @property
    def complete(self) -> bool:
        return not (self.untranslated or self.fuzzy or self.missing)


def gaps(language: str) -> Gaps:
    """What ``language``'s catalog lacks against the template."""
    with TEMPLATE.open("rb") as f:
        template = read_po(f)
    with catalog_path(language).open("rb") as f:
        catalog = read_po(f, locale=language)
    found = Gaps(language)
    for message in template:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        translated = catalog.get(message.id, context=message.context)
        if translated is None:
            found.missing.append(key)
        elif translated.fuzzy:
            found.fuzzy.append(key)
        elif (
            not all(translated.string)
            if isinstance(translated.string, tuple | list)
            else (not translated.string)
        ):
            found.untranslated.append(key)
    return found


def _translated(string: str | tuple[str, ...] | list[str]) -> bool:
    """A translation, or every plural form of one, is there."""
    forms = [string] if isinstance(string, str) else list(string)
    return bool(forms) and all(forms)


def languages_with_catalogs() -> list[str]:
    return sorted(
        lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE and catalog_path(lang).exists()
    )
