"""The reader's language (docs/architecture.md#languages): which one, its messages and its formats.

Text is chosen when it is shown, not when it is made: the audit trail and the API keep stable
codes and parameters, and a page, an error answer or a printout renders them in the language of
whoever reads it. Messages come from gettext catalogs compiled with Babel
(``mfg/i18n/locale/<language>/LC_MESSAGES/messages.mo``, shipped with the package; ``mfg i18n``
extracts, updates, compiles and checks them). Numbers, dates and times are formatted by Babel in
the reader's locale.

The language of the work in hand is a context variable: set for a request once its reader is
known (:func:`use_language`), read by the templates' ``_()`` and by :func:`gettext` anywhere
below, threads included (the request's context is copied into the thread that runs it).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# The languages a reader may choose, in their own words. English is the source language.
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский", "be": "Беларуская"}
SOURCE_LANGUAGE = "en"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="en")


def supported(language: str | None) -> str | None:
    """``language`` (``ru``, ``ru-RU``, ``RU``) as one of :data:`LANGUAGES`, or None."""
    if not language:
        return None
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str | None) -> str | None:
    """The best of :data:`LANGUAGES` for an HTTP ``Accept-Language`` header, or None."""
    if not accept_language:
        return None
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = supported(tag)
        if language and quality > 0:
            wanted.append((-quality, position, language))
    return min(wanted)[2] if wanted else None


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (the source language has none: its text is the
    message itself)."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


def current_language() -> str:
    return _language.get()


@contextmanager
def use_language(language: str) -> Iterator[str]:
    """Render and answer in ``language`` within the block."""
    token = _language.set(supported(language) or SOURCE_LANGUAGE)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def set_language(language: str) -> None:
    """The language of the rest of this context (a request's, once its reader is known)."""
    _language.set(supported(language) or SOURCE_LANGUAGE)


def raw_gettext(message: str) -> str:
    """``message`` in the current language, its parameters left for the caller to fill (the
    templates' ``_()``, which Jinja fills itself)."""
    return translations(_language.get()).gettext(message)


def localize(template: str, params: Mapping[str, object] | None = None) -> str:
    """A message made of a catalog ``template`` and its ``%(name)s`` parameters, in the current
    language: the template translated, each text parameter that is itself a message (an
    action, a status word) translated too, and a parameter that is a refusal of its own (an
    object with ``localized()``) in its localized words; names, codes and numbers stay as they
    are."""
    text = raw_gettext(template)
    if not params:
        return text
    return text % {key: _localized_param(value) for key, value in params.items()}


@dataclass(frozen=True, order=True)
class Text:
    """A phrase made of a catalog ``template`` and its parameters, put into words when shown: in
    English by ``str()`` (as records keep it), in the reader's language by :meth:`localized`. A
    parameter of a larger message, so that a list of such phrases reads in one language."""

    template: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, template: str, /, **params: object) -> Text:
        return cls(template, tuple(sorted(params.items())))

    def __str__(self) -> str:
        return self.template % dict(self.params) if self.params else self.template

    def localized(self) -> str:
        return localize(self.template, dict(self.params))


@dataclass(frozen=True)
class Joined:
    """Phrases joined by ``separator``, each put into words when shown (see :class:`Text`)."""

    parts: tuple[object, ...]
    separator: str = "; "

    def __str__(self) -> str:
        return self.separator.join(str(p) for p in self.parts)

    def localized(self) -> str:
        return self.separator.join(str(_localized_param(p)) for p in self.parts)


def _localized_param(value: object) -> object:
    if hasattr(value, "localized"):
        return value.localized()
    if isinstance(value, str) and value:
        return raw_gettext(value)
    return value


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


def gettext(message: str, /, **params: object) -> str:
    """``message`` in the current language, its ``%(name)s`` parameters filled in."""
    text = translations(_language.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current language (Russian has
    three), with ``%(num)s`` and the other parameters filled in."""
    text = translations(_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, as meant in ``context`` (a status word is not the
    button of the same spelling)."""
    return translations(_language.get()).pgettext(context, message)


def pgettext_noop(context: str, message: str) -> str:
    """Marks ``message`` in ``context`` for extraction; translated with :func:`pgettext`."""
    return message


def N_(message: str) -> str:
    """Marks ``message`` for extraction; it is translated where it is shown."""
    return message


def in_language(language: str, message: str, /, **params: object) -> str:
    """``message`` in ``language``, whatever the current one, its parameters filled as
    :func:`localize` does: a bilingual printout, the text a signer was shown, a text the
    application writes into a record in the facility's language."""
    with use_language(language):
        return localize(message, params)


@cache
def locale_of(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LANGUAGE)


def format_number(value: float | Decimal | int | None, digits: int | None = None) -> str:
    """A number as the reader writes it: ``92,4`` in Russian, ``92.4`` in English; thousands
    grouped (``12 500 000``). ``digits`` fixes the decimals; otherwise they are kept as given."""
    if value is None:
        return ""
    locale = locale_of(_language.get())
    if digits is None:
        return babel_numbers.format_decimal(value, locale=locale, decimal_quantization=False)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=locale)


def format_percent(value: float | Decimal | None, digits: int = 1) -> str:
    """A percentage given in percent (92.4 → ``92,4 %`` in Russian, ``92.4%`` in English)."""
    if value is None:
        return ""
    locale = locale_of(_language.get())
    pattern = locale.percent_formats[None].pattern
    decimals = "0." + "0" * digits if digits else "0"
    return babel_numbers.format_percent(
        Decimal(str(value)) / 100, format=pattern.replace("0", decimals, 1), locale=locale
    )


# Today's (English) display of a moment, as strftime patterns, and the kinds of the locale's own
# patterns (Babel's "short", "medium") a reader of another language gets instead.
LOCALE_PATTERNS = {
    "%Y-%m-%d %H:%M": ("short", "short"),
    "%Y-%m-%d %H:%M:%S": ("short", "medium"),
    "%Y-%m-%d": ("short", None),
    "%H:%M": (None, "short"),
}


def format_moment(local: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A local date and time as the reader writes it: in English the ISO order as always
    (``2026-11-25 00:30``), in another language its locale's, by Babel (``25.11.2026 00:30``)."""
    language = _language.get()
    if language == SOURCE_LANGUAGE or fmt not in LOCALE_PATTERNS:
        return local.strftime(fmt)
    locale = locale_of(language)
    date_kind, time_kind = LOCALE_PATTERNS[fmt]
    patterns = [_full_year(locale.date_formats[date_kind].pattern)] if date_kind else []
    patterns += [locale.time_formats[time_kind].pattern] if time_kind else []
    return babel_dates.format_datetime(
        local, " ".join(patterns), tzinfo=local.tzinfo, locale=locale
    )


def format_day(day: date | None) -> str:
    """A calendar date as the reader writes it (see :func:`format_moment`)."""
    if day is None:
        return ""
    language = _language.get()
    if language == SOURCE_LANGUAGE:
        return day.isoformat()
    locale = locale_of(language)
    return babel_dates.format_date(
        day, _full_year(locale.date_formats["short"].pattern), locale=locale
    )


def _full_year(pattern: str) -> str:
    """A locale's short date pattern with the year written in full: a record's date never
    leaves its century to be guessed (Belarusian's short pattern has ``yy``)."""
    return re.sub(r"(?<!y)yy(?!y)", "y", pattern)


def format_datetime(value: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the facility reads it: local date and time (in the reader's
    order, :func:`format_moment`) with the zone's name."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    name = local.tzname() or ""
    if not name.isalpha():  # zones without an abbreviation (Europe/Minsk is "+03")
        offset = local.strftime("%z")
        name = f"UTC{offset[:3]}:{offset[3:]}"
    return f"{format_moment(local, fmt)} {name}"
