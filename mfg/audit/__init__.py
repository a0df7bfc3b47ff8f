"""The append-only, hash-chained audit trail (DESIGN.md §4, REFERENCE.md §2)."""
