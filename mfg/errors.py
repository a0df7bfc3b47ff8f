"""The error family: every failure a user can meet has a stable code, an HTTP status and a message.

Routers never raise ``HTTPException`` for business rules; services raise these, and one handler
(``mfg.web.errors``) renders them as JSON under ``/api`` and as an error page elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mfg import i18n
from mfg.i18n import N_


@dataclass(frozen=True)
class Reason:
    """One rule that refuses an action: its stable ``code`` (what clients and the audit trail
    match on) and the sentence a person reads, kept as the catalog's ``template`` and its
    ``params`` so that each reader gets it in their language (:meth:`localized`); ``message`` is
    the sentence in English, as recorded. ``conflict``: the record's state refuses it (HTTP 409:
    reload, the record is not where the action needs it), rather than the input (HTTP 422:
    correct what was typed)."""

    code: str
    template: str
    conflict: bool = False
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def localized(self) -> str:
        return i18n.localize(self.template, self.params)

    def as_dict(self, *, localized: bool = False) -> dict[str, str]:
        """Its code and sentence: in English as recorded, or in the reader's language."""
        return {"code": self.code, "message": self.localized() if localized else self.message}


def reason(code: str, template: str, /, **params: Any) -> Reason:
    """A reason about the input (422): ``template`` names its ``%(name)s`` ``params``."""
    return Reason(code, template, params=params)


def conflict(code: str, template: str, /, **params: Any) -> Reason:
    """A reason that is a conflict with the record's state (409)."""
    return Reason(code, template, conflict=True, params=params)


class MfgError(Exception):
    """Base of every domain error. ``code`` is stable: clients and tests match on it."""

    code: str = "error"
    status_code: int = 400
    default_message: ClassVar[str] = N_("The request could not be carried out.")

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ):
        # ``message`` may name ``%(name)s`` parameters: it is then the catalog's message, and
        # the text is made from it in the language of whoever reads it (localized()).
        self.template = message or self.default_message
        self.params = params or {}
        self.message = self.template % self.params if self.params else self.template
        self.details = details or {}
        if code:
            self.code = code
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        """The answer's body, its message in the reader's language (mfg.i18n)."""
        return {"code": self.code, "message": self.localized(), "details": self.localized_details()}

    def localized_details(self) -> dict[str, Any]:
        """The details as the reader gets them (their sentences in the reader's language)."""
        return self.details

    def localized(self) -> str:
        """The message in the current language: its translation where the catalog has the
        sentence, else as written."""
        return i18n.localize(self.template, self.params)


class BadRequest(MfgError):
    code = "bad_request"
    status_code = 400
    default_message = N_("The request is malformed.")


class InvalidInput(MfgError):
    code = "validation_error"
    status_code = 422
    default_message = N_("Some fields are missing or invalid.")


class NotAuthenticated(MfgError):
    code = "not_authenticated"
    status_code = 401
    default_message = N_("Please log in.")


class PermissionDenied(MfgError):
    code = "forbidden"
    status_code = 403
    default_message = N_("Your role does not allow this action.")


class NotFound(MfgError):
    code = "not_found"
    status_code = 404
    default_message = N_("No such record.")


class MethodNotAllowed(MfgError):
    code = "method_not_allowed"
    status_code = 405
    default_message = N_("This address does not accept that method.")


class Conflict(MfgError):
    """Someone else changed the record first (compare-and-set lost), or it already exists."""

    code = "conflict"
    status_code = 409
    default_message = N_("The record was changed by someone else; reload it and try again.")


class RuleViolation(MfgError):
    """Regulated rules refuse the action. Its code is the refusing rule's own code (the first
    one's, unless ``code`` names the refusal as a whole); ``details["rules"]`` lists every unmet
    rule with its code, ``details["reasons"]`` their sentences. HTTP 409 when a rule is a conflict
    with the record's state, 422 when only the input is at fault."""

    code = "rule_violation"
    status_code = 422
    default_message = N_("The action is not allowed by the rules in force.")

    def __init__(
        self,
        reasons: Reason | Sequence[Reason],
        *,
        message: str | None = None,
        code: str | None = None,
        lead: str | None = None,
        params: Mapping[str, Any] | None = None,
        separator: str = "; ",
        **details: Any,
    ):
        self.rules = [reasons] if isinstance(reasons, Reason) else list(reasons)
        if not all(isinstance(r, Reason) for r in self.rules):
            # tests/test_refusal_codes.py keeps code from doing it, this keeps it from running
            raise TypeError("a refusal names its rule: give Reasons, not sentences")
        self.reasons = [r.message for r in self.rules]
        # Without a message of its own, the refusal reads as its rules' sentences, after a lead
        # sentence (a catalog message with ``params``) when there is one.
        self.joined = message is None
        self.lead, self.lead_params, self.separator = lead, dict(params or {}), separator
        if any(r.conflict for r in self.rules):
            self.status_code = Conflict.status_code
        super().__init__(
            message or self._joined(self.reasons, lead and lead % self.lead_params) or None,
            details={
                "reasons": self.reasons,
                "rules": [r.as_dict() for r in self.rules],
                **details,
            },
            code=code or (self.rules[0].code if self.rules else None),
        )

    def _joined(self, sentences: list[str], lead: str | None) -> str:
        body = self.separator.join(sentences)
        return f"{lead}: {body}" if lead else body

    def localized(self) -> str:
        """The refusal in the reader's language: its lead and each rule's sentence, unless a
        message was given for the refusal as a whole."""
        if self.joined and self.rules:
            lead = i18n.localize(self.lead, self.lead_params) if self.lead else None
            return self._joined([r.localized() for r in self.rules], lead)
        return super().localized()

    def localized_details(self) -> dict[str, Any]:
        return {
            **self.details,
            "reasons": [r.localized() for r in self.rules],
            "rules": [r.as_dict(localized=True) for r in self.rules],
        }

    @classmethod
    def of(
        cls, reasons: Sequence[Reason], *, several: str, message: str | None = None, **details: Any
    ) -> RuleViolation:
        """A refusal by a checklist of rules: the one refusing rule's code, or ``several`` (the
        refusal as a whole) when different rules refuse, so that a client need not know which
        rule a checklist tests first. ``lead``, ``params`` and ``separator`` (see ``__init__``)
        pass through ``details``."""
        codes = {r.code for r in reasons}
        return cls(reasons, message=message, code=several if len(codes) > 1 else None, **details)

    @classmethod
    def one(
        cls, code: str, message: str, *, params: Mapping[str, Any] | None = None, **details: Any
    ) -> RuleViolation:
        """A refusal by one rule about the input (422); ``message`` names its ``params``."""
        return cls(Reason(code, message, params=params or {}), **details)

    @classmethod
    def state(
        cls, code: str, message: str, *, params: Mapping[str, Any] | None = None, **details: Any
    ) -> RuleViolation:
        """A refusal by one rule about the record's state (409); ``message`` names its
        ``params``."""
        return cls(conflict(code, message, **(params or {})), **details)


class Busy(MfgError):
    """The server could not get what the request needs (a database connection, the write lock,
    a row another person holds) in reasonable time: nothing was saved; try again shortly."""

    code = "busy"
    status_code = 503
    default_message = N_("The server is busy: nothing was saved. Please try again in a moment.")
    retry_after_seconds = 2


class DemoRefused(MfgError):
    code = "demo_refused"
    status_code = 409
    default_message = N_("This database holds real data; demonstration data is never added to it.")


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_message = N_("Wrong username or password.")


class TooManyAttempts(MfgError):
    """Too many failed logins from this address or for this account name lately: refused before
    any password is checked, until the window ends (``retry_after_seconds``)."""

    code = "too_many_attempts"
    status_code = 429
    default_message = N_("Too many failed login attempts; wait a few minutes before trying again.")

    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(
            f"Too many failed login attempts; try again in {minutes} minute"
            f"{'' if minutes == 1 else 's'}.",
            details={"retry_after_seconds": retry_after_seconds},
        )
        self.retry_after_seconds = retry_after_seconds


class AccountLocked(NotAuthenticated):
    code = "account_locked"
    default_message = N_(
        "This account is locked after too many failed attempts; an administrator must unlock it."
    )


class AccountInactive(NotAuthenticated):
    code = "account_inactive"
    default_message = N_("This account is deactivated.")


class SessionExpired(NotAuthenticated):
    code = "session_expired"
    default_message = N_("Your session ended; please log in again.")


class PasswordChangeRequired(PermissionDenied):
    code = "password_change_required"
    default_message = N_("Choose a new password before doing anything else.")


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    default_message = N_("The form has expired or did not come from this site; reload the page.")


class SignatureRefused(MfgError):
    code = "signature_refused"
    status_code = 422
    default_message = N_("Signature refused: the password is wrong.")
