"""Output of the scan API."""

from pydantic import BaseModel

from mfg.identifiers.resolve import Resolution
from mfg.identifiers.scan import ParsedScan


class TokenPublic(BaseModel):
    kind: str
    value: str
    flags: str | None = None
    hand_typed: bool = False
    data: dict[str, str] | None = None


class ScanResult(BaseModel):
    kind: str
    identifier: str
    url: str
    summary: str
    status: str | None
    tokens: list[TokenPublic]
    symbology: str | None
    layout_recovered: bool
    caps_lock_recovered: bool = False  # an ISBT 128 scan read with Caps Lock on, upper-cased

    @classmethod
    def of(cls, scan: ParsedScan, found: Resolution) -> "ScanResult":
        return cls(
            kind=found.kind,
            identifier=found.identifier,
            url=found.url,
            summary=found.summary,
            status=found.status,
            tokens=[
                TokenPublic(
                    kind=t.kind.value,
                    value=t.value,
                    flags=t.flags,
                    hand_typed=t.hand_typed,
                    data=dict(t.data) if t.data else None,
                )
                for t in scan.tokens
            ],
            symbology=scan.symbology,
            layout_recovered=scan.layout_recovered,
            caps_lock_recovered=scan.caps_lock_recovered,
        )
