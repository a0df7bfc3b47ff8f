"""Staff badges: a user's local identifier is ``ST`` + their (never reused) user id."""

from sqlmodel import Session

from mfg.identifiers.local import LocalId
from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan
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
