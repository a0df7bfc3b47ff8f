"""The one place where every kind of record registers how a scan finds it (DESIGN.md §6)."""

from mfg.accounts.scan import STAFF_PREFIX, lookup_staff
from mfg.identifiers.resolve import Resolver


def build_resolver() -> Resolver:
    resolver = Resolver()
    resolver.on_prefix(STAFF_PREFIX, lookup_staff)
    return resolver
