import pytest

from tests.donors.factories import DonorWorld


@pytest.fixture
def lab(engine, settings, users) -> DonorWorld:
    return DonorWorld(engine, settings, users)
