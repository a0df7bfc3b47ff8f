"""Lot release: QA review, release signature, certificate, conditional release, rejection and
recall."""
