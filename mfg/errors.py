"""The error family: every failure a user can meet has a stable code, an HTTP status and a message.

Routers never raise ``HTTPException`` for business rules; services raise these, and one handler
(``mfg.web.errors``) renders them as JSON under ``/api`` and as an error page elsewhere.
"""

from __future__ import annotations

from typing import Any, ClassVar


class MfgError(Exception):
    """Base of every domain error. ``code`` is stable: clients and tests match on it."""

    code: ClassVar[str] = "error"
    status_code: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request could not be carried out."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class BadRequest(MfgError):
    code = "bad_request"
    status_code = 400
    default_message = "The request is malformed."


class InvalidInput(MfgError):
    code = "validation_error"
    status_code = 422
    default_message = "Some fields are missing or invalid."


class NotAuthenticated(MfgError):
    code = "not_authenticated"
    status_code = 401
    default_message = "Please log in."


class PermissionDenied(MfgError):
    code = "forbidden"
    status_code = 403
    default_message = "Your role does not allow this action."


class NotFound(MfgError):
    code = "not_found"
    status_code = 404
    default_message = "No such record."


class MethodNotAllowed(MfgError):
    code = "method_not_allowed"
    status_code = 405
    default_message = "This address does not accept that method."


class Conflict(MfgError):
    """Someone else changed the record first (compare-and-set lost), or it already exists."""

    code = "conflict"
    status_code = 409
    default_message = "The record was changed by someone else; reload it and try again."


class RuleViolation(MfgError):
    """A regulated rule refuses the action; ``details["reasons"]`` lists every unmet rule."""

    code = "rule_violation"
    status_code = 422
    default_message = "The action is not allowed by the rules in force."

    def __init__(self, reasons: list[str] | str, *, message: str | None = None, **details: Any):
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__(
            message or "; ".join(self.reasons) or None,
            details={"reasons": self.reasons, **details},
        )


class DemoRefused(MfgError):
    code = "demo_refused"
    status_code = 409
    default_message = "This database holds real data; demonstration data is never added to it."


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_message = "Wrong username or password."


class AccountLocked(NotAuthenticated):
    code = "account_locked"
    default_message = (
        "This account is locked after too many failed attempts; an administrator must unlock it."
    )


class AccountInactive(NotAuthenticated):
    code = "account_inactive"
    default_message = "This account is deactivated."


class SessionExpired(NotAuthenticated):
    code = "session_expired"
    default_message = "Your session ended; please log in again."


class PasswordChangeRequired(PermissionDenied):
    code = "password_change_required"
    default_message = "Choose a new password before doing anything else."


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    default_message = "The form has expired or did not come from this site; reload the page."


class SignatureRefused(MfgError):
    code = "signature_refused"
    status_code = 422
    default_message = "Signature refused: the password is wrong."
