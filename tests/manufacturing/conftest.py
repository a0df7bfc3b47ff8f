import pytest

from tests.donors.factories import Lab


@pytest.fixture
def lab(engine, settings, users) -> Lab:
    return Lab(engine, settings, users)
