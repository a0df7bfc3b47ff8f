"""Donors and biopsies: registration, marker testing, signed eligibility, biopsy receipt."""
