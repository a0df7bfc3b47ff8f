import pytest

from tests.donors.factories import DonorWorld


@pytest.fixture
def world(engine, settings, users) -> DonorWorld:
    return DonorWorld(engine, settings, users)
