"""Shared fixtures: settings with a private cache, and where the shared real fixtures live."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings

# The local replay server (`replay_server`, `data_settings`, `test_rasters`): see tests/support/README.md.
pytest_plugins = ["tests.support.replay_fixtures", "tests.support.cmip6_fixtures"]

REPO = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
REAL = SHARED_FIXTURES / "real"
ECOMAPPER_EXAMPLE = SHARED_FIXTURES / "ecomapper_example"


def require_shared(path: Path) -> Path:
    """Skip the test when the shared fixtures are not beside the repo."""
    if not path.exists():
        pytest.skip(f"shared fixture {path} is not present")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with a fresh cache and checkpoints folder per test, and fast retries.

    No boundary file (the nearest-town gazetteer names places): tests reach only localhost, and the
    tests about boundaries set `boundaries_url` to a local file or server.
    """
    return Settings.from_env().with_(
        cache_dir=tmp_path / "cache",
        checkpoints_dir=tmp_path / "checkpoints",
        backoff_s=0.0,
        timeout_s=5.0,
        boundaries_url="",
    )


@pytest.fixture(scope="module")
def tiny_engine():
    """The tiny random SD3 engine, loaded once per test module."""
    from core.models import ModelSpec
    from core.models.engine import Engine

    return Engine.load(ModelSpec("tiny-random"), Settings.from_env())


@pytest.fixture
def natural_earth_settings(settings: Settings) -> Settings:
    """Offline settings naming places by Natural Earth's admin-1 polygons as `scripts/setup.sh` installs
    them (the default `boundaries_url`). Fails, not skips, when they are missing: the setup installs them."""
    from core.config import NATURAL_EARTH_ADMIN1_URL
    from core.sources.boundaries import INSTALLED_ADMIN1

    if not INSTALLED_ADMIN1.is_file():
        pytest.fail(f"{INSTALLED_ADMIN1} is missing: run `bash scripts/setup.sh` (it installs them with npm)")
    return settings.with_(boundaries_url=NATURAL_EARTH_ADMIN1_URL, offline=True)
