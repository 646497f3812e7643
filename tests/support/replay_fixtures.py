"""pytest plugin: the local replay server and settings that point every endpoint at it.

Registered in tests/conftest.py (`pytest_plugins`), so any test can ask for `replay_server`,
`data_settings` or `test_rasters`. See tests/support/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from tests.data.make_test_cogs import TestRasters, make_all
from tests.support.replay_server import FakeStacApi, ReplayServer

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
SAHARA_ITEM_ID = "S2A_29RKH_20200219_0_L2A"
SAHARA_CLOUDY_COPY_ID = "S2A_29RKH_20200229_0_L2A_copy"


def start_replay_server(real_dir: Path, rasters: TestRasters) -> ReplayServer:
    """Start a server with the test rasters registered: SCL layers and reflectance bands on the Sahara items."""
    server = ReplayServer(real_dir, rasters.visual_10m.parent).start()
    for name in ("visual_10m", "scl_clear", "scl_cloudy"):
        server.register_file(f"{name}.tif", getattr(rasters, name))
    # Earth Search's asset keys of the reflectance bands -> the test band rasters served here.
    band_keys = {"red": "B04", "green": "B03", "blue": "B02", "nir": "B08"}
    band_hrefs = {
        key: server.register_file(f"{band.lower()}_10m.tif", rasters.bands_10m[band]) for key, band in band_keys.items()
    }
    server.stac = FakeStacApi(
        server.sahara_items(
            scl={
                SAHARA_ITEM_ID: server.file_url("scl_clear.tif"),
                SAHARA_CLOUDY_COPY_ID: server.file_url("scl_cloudy.tif"),
            },
            bands=band_hrefs,
        )
    )
    return server


def settings_for(server: ReplayServer, cache_dir: Path, **changes: object) -> Settings:
    """Settings with every endpoint on `server`, a private cache and fast retries."""
    base = Settings.from_env().with_(
        stac_provider="earth-search",
        stac_url=server.stac_url,
        pc_stac_url=server.pc_stac_url,
        pc_sas_url=server.pc_sas_url,
        landcover_stac_url=server.landcover_stac_url,
        power_url=server.power_url,
        cache_dir=cache_dir,
        offline=False,
        timeout_s=5.0,
        retries=2,
        backoff_s=0.0,
        boundaries_url="",  # the gazetteer; tests about boundaries pass a local file or server
    )
    return base.with_(**changes) if changes else base


@pytest.fixture(scope="session")
def test_rasters(tmp_path_factory: pytest.TempPathFactory) -> TestRasters:
    """The seeded test COGs (written once per session into a temporary folder)."""
    return make_all(tmp_path_factory.mktemp("test-cogs"))


@pytest.fixture
def replay_server(test_rasters: TestRasters) -> Iterator[ReplayServer]:
    """A fresh replay server on 127.0.0.1 (skips when ../shared/fixtures is absent)."""
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    server = start_replay_server(REAL, test_rasters)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def data_settings(replay_server: ReplayServer, tmp_path: Path) -> Settings:
    """Settings pointing every data endpoint at `replay_server`, with a private cache."""
    return settings_for(replay_server, tmp_path / "data-cache")


@pytest.fixture
def replay_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, replay_server: ReplayServer) -> Path:
    """The command line's environment on the replay server, with a private cache and checkpoints folder
    under `tmp_path` (returned: where a test writes its outputs)."""
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    for key, value in replay_server.env().items():
        monkeypatch.setenv(key, value)
    return tmp_path

