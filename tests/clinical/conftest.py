import pytest

from tests.clinical.factories import laboratory_and_ward
from tests.donors.factories import Lab


@pytest.fixture
def lab(engine, settings, users) -> Lab:
    """A laboratory and a ward: second QC analyst, second QA person, second clinician."""
    return laboratory_and_ward(engine, settings, users)
