"""The append-only, hash-chained audit trail (docs/architecture.md#audit-chain,
docs/regulation.md#audit-trail)."""
