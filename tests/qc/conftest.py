import pytest

from tests.donors.factories import Lab
from tests.factories import add_user


@pytest.fixture
def lab(engine, settings, users) -> Lab:
    """The people of a QC laboratory: a second analyst ("qc-2") verifies what "qc" enters."""
    users = {**users, "qc-2": add_user(engine, settings, "qc-2", "qc")}
    return Lab(engine, settings, users)
