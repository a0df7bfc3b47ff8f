"""The audit trail for people: search, export, verify, and QA's signed reviews (Annex 11 §9)."""
