"""The page of each kind of record, by its identifier: what a link to a record points at, on
the trace, in a QC sample's source and wherever a record is named."""

RECORD_PAGES = {
    "donor": "/donors/{}",
    "biopsy": "/biopsies/{}",
    "culture": "/cultures/{}",
    "material": "/materials/{}",
    "lot": "/lots/{}",
    "dose": "/doses/{}",
    "patient": "/patients/{}",
}


def record_url(kind: str, identifier: str) -> str | None:
    """The page of the record, or None for a kind that has no page of its own."""
    page = RECORD_PAGES.get(kind)
    return page.format(identifier) if page else None
