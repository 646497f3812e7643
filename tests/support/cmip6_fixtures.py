"""pytest plugin: the seeded CMIP6 test archive, its local HTTP server and settings pointing at either.

Registered in tests/conftest.py. `cmip6_archive` is written once per session (tests/data/make_cmip6_store.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from tests.data.make_cmip6_store import Cmip6TestArchive, write_archive
from tests.support.cmip6_server import Cmip6Server


def cmip6_http_settings(server: Cmip6Server, cache_dir: Path, catalog: str = "pangeo-cmip6.csv") -> Settings:
    """Catalog and stores over HTTP from `server` (the mirror replaces gs://cmip6/ and s3://cmip6-pds/)."""
    return Settings.from_env().with_(
        cmip6_catalog_url=f"{server.bucket_url}/{catalog}",
        cmip6_store_url=server.bucket_url,
        cache_dir=cache_dir,
        offline=False,
        timeout_s=5.0,
        retries=1,
        backoff_s=0.0,
    )


def cmip6_local_settings(archive: Cmip6TestArchive, cache_dir: Path) -> Settings:
    """Catalog and stores read from the archive folder (no HTTP)."""
    return Settings.from_env().with_(
        cmip6_catalog_url=str(archive.catalog_gs), cmip6_store_url=str(archive.root), cache_dir=cache_dir
    )


@pytest.fixture(scope="session")
def cmip6_archive(tmp_path_factory: pytest.TempPathFactory) -> Cmip6TestArchive:
    return write_archive(tmp_path_factory.mktemp("cmip6-archive"))


@pytest.fixture
def cmip6_server(cmip6_archive: Cmip6TestArchive) -> Iterator[Cmip6Server]:
    with Cmip6Server(cmip6_archive.root) as server:
        yield server


@pytest.fixture
def cmip6_settings(cmip6_server: Cmip6Server, tmp_path: Path) -> Settings:
    return cmip6_http_settings(cmip6_server, tmp_path / "cmip6-cache")
