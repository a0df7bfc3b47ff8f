import pytest

from tests.donors.factories import Lab
from tests.factories import add_user


@pytest.fixture
def lab(engine, settings, users) -> Lab:
    """A second QC analyst verifies; a second QA person releases what the first took part in."""
    users = {
        **users,
        "qc-2": add_user(engine, settings, "qc-2", "qc"),
        "qa-2": add_user(engine, settings, "qa-2", "qa"),
    }
    return Lab(engine, settings, users)
