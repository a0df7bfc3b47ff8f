"""A laboratory and a ward, and a small real history to trace (``tests/trace/factories.py``)."""

import pytest

from tests.clinical.factories import laboratory_and_ward
from tests.donors.factories import Lab
from tests.trace.factories import two_pool_history


@pytest.fixture
def lab(engine, settings, users) -> Lab:
    """A laboratory and a ward: second QC analyst, second QA person, second clinician."""
    return laboratory_and_ward(engine, settings, users)


@pytest.fixture
def history(lab, engine):
    """Lot A (one dose) and lot B from four different donors; a patient infused from each."""
    return two_pool_history(lab, engine)
