import pytest

from tests.donors.factories import DonorWorld
from tests.factories import add_user


@pytest.fixture
def lab(engine, settings, users) -> DonorWorld:
    """A laboratory and a ward: second QC analyst, second QA person, second clinician."""
    extra = {
        name: add_user(engine, settings, name, role)
        for name, role in (("qc-2", "qc"), ("qa-2", "qa"), ("clinician-2", "clinician"))
    }
    return DonorWorld(engine, settings, {**users, **extra})
