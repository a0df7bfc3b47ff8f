"""A laboratory and a ward, and a small real history to trace (``tests/trace/factories.py``)."""

import pytest

from tests.donors.factories import DonorWorld
from tests.factories import add_user
from tests.trace.factories import two_pool_history


@pytest.fixture
def lab(engine, settings, users) -> DonorWorld:
    """A laboratory and a ward: second QC analyst, second QA person, second clinician."""
    extra = {
        name: add_user(engine, settings, name, role)
        for name, role in (("qc-2", "qc"), ("qa-2", "qa"), ("clinician-2", "clinician"))
    }
    return DonorWorld(engine, settings, {**users, **extra})


@pytest.fixture
def history(lab, engine):
    """Lot A (one dose) and lot B from four different donors; a patient infused from each."""
    return two_pool_history(lab, engine)
