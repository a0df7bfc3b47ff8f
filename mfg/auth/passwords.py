"""Password hashing (argon2id) and the password policy."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mfg.errors import Reason, RuleViolation, reason

_HASHERS = {
    "standard": PasswordHasher(),  # argon2id with the library's RFC 9106 defaults
    # Only for test suites (refused in production): the parameters live in each hash, so hashes
    # made this way are still verified correctly, just cheaply.
    "test": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
# A hash of a random password: checking against it costs the same time as a real check, so a
# wrong username cannot be told from a wrong password by timing.
_DUMMY_HASH = _HASHERS["standard"].hash(secrets.token_urlsafe(16))


def hash_password(password: str, *, profile: str = "standard") -> str:
    return _HASHERS[profile].hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        verified = _HASHERS["standard"].verify(password_hash or _DUMMY_HASH, password)
        return verified and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def policy_problems(password: str, *, min_length: int, username: str = "") -> list[Reason]:
    """Every way ``password`` falls short of the policy, in words (empty when it complies)."""
    problems = []
    if len(password) < min_length:
        problems.append(
            # the policy's minimum is at least 8 (config.py): never "1 character"
            reason(
                "password_too_short",
                "a password needs at least %(min_length)s characters",
                min_length=min_length,
            )
        )
    if password.strip() != password:
        problems.append(
            Reason("password_edge_space", "a password may not start or end with a space")
        )
    if username and username.lower() in password.lower():
        problems.append(
            Reason("password_contains_username", "a password may not contain the username")
        )
    if len(set(password)) < 5:
        problems.append(
            Reason("password_too_uniform", "a password needs at least 5 different characters")
        )
    return problems


def policy_refusal(problems: list[Reason], *, lead: str) -> RuleViolation:
    """The password policy refuses: the one rule's code, or ``password_policy`` for several."""
    return RuleViolation.of(problems, several="password_policy", lead=lead)


def one_time_password() -> str:
    """A one-time password for a new account or a reset: shown once, changed at first login."""
    return "-".join(secrets.token_urlsafe(4) for _ in range(4))
