"""Staff badges: a user's local identifier is ``ST`` + their (never reused) user id; its label."""

from sqlmodel import Session

from mfg.db import settings_of
from mfg.identifiers.errors import ScanError
from mfg.identifiers.local import LocalId, canonical_local
from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan
from mfg.labeling.fields import LabelData, common_fields, local_fields, roles_text
from mfg.models import User

STAFF_PREFIX = "ST"


def staff_code(user: User) -> LocalId:
    return LocalId(STAFF_PREFIX, user.id or 0)


def lookup_staff(session: Session, scan: ParsedScan) -> list[Resolution]:
    user = session.get(User, int(scan.tokens[0].value[2:8]))
    if user is None:
        return []
    status = "inactive" if not user.active else "locked" if user.locked else "active"
    return [
        Resolution(
            kind="staff",
            identifier=str(staff_code(user)),
            url=f"/admin/users/{user.username}",
            summary=f"Staff member {user.full_name} ({user.roles.replace(',', ', ')}), {status}",
            status=status,
        )
    ]


def badge_label(session: Session, identifier: str, flags: str) -> LabelData | None:
    """The staff badge label of the user a badge code names (no flags: not an ISBT 128 code)."""
    try:
        code = canonical_local(identifier)
    except ScanError:
        return None
    user = session.get(User, int(code[2:8])) if code.startswith(STAFF_PREFIX) else None
    if user is None:
        return None
    settings = settings_of(session)
    return {
        **common_fields(
            facility_name=settings.facility_name,
            facility_fin=settings.facility_fin,
            test_facility=settings.is_test_facility,
        ),
        **local_fields("badge", staff_code(user)),
        "full_name": user.full_name,
        "roles_text": roles_text(user.role_set),
    }
