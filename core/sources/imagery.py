"""The least-cloudy Sentinel-2 L2A scene of a footprint in a month: its true-colour image (cached on disk)
and, for multispectral generators, its B04/B03/B02/B08 surface reflectance."""

from __future__ import annotations

import dataclasses
import io
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import NoImageryError, UpstreamError
from core.geo import FOOTPRINT_PX, Footprint, Month, Point
from core.io.cache import DiskCache, fresh_month_max_age_s, request_key
from core.io.http import HttpClient, describe_age
from core.limits import MAX_IMAGE_PIXELS
from core.sources.cog import read_footprint
from core.sources.stac import PlanetaryComputerSigner, month_interval, search_bbox_parts

log = logging.getLogger(__name__)

COLLECTION = "sentinel-2-l2a"
# Scene classification (SCL) classes counted as cloud over the footprint: cloud shadow (3),
# cloud medium probability (8), cloud high probability (9), thin cirrus (10). 0 is no data.
SCL_CLOUD_CLASSES = (3, 8, 9, 10)
SCL_NODATA = 0
# decimals of the cloud and nodata fractions, fresh and cached alike (1e-6 of a 512 px footprint is < 1 px)
FRACTION_DECIMALS = 6
SCL_READ_PX = 256  # the SCL is 20 m: 256 px cover the 5.12 km footprint at its own resolution
# A candidate with more of the footprint missing than this is not a usable image.
MAX_NODATA_FRACTION = 0.5
# SCL window reads per request: ranking looks at the scenes least cloudy over their whole tile first.
MAX_CANDIDATES = 4
SEARCH_LIMIT = 50
# Reflectance bands COP-GEN reads, in its channel order, with each band's asset keys: Earth Search names
# them by common name (red, green, blue, nir), the Planetary Computer by band (B04, ...).
REFLECTANCE_BANDS = ("B04", "B03", "B02", "B08")
BAND_ASSET_KEYS = {"B04": ("red", "B04"), "B03": ("green", "B03"), "B02": ("blue", "B02"), "B08": ("nir", "B08")}
# L2A digital numbers are reflectance x 10000; from processing baseline 04.00 (25 January 2022) they carry
# an added offset of +1000 (BOA_ADD_OFFSET), so reflectance = (DN - 1000) / 10000. Earth Search writes
# this into each asset's raster:bands (scale, offset); the Planetary Computer documents it without them.
L2A_DN_SCALE = 1e-4
BOA_ADD_OFFSET_DN = 1000
BOA_OFFSET_FROM_BASELINE = 4.0


@dataclass(frozen=True)
class Provider:
    name: str
    url: str
    visual_key: str
    scl_key: str
    signed: bool


def provider_for(settings: Settings) -> Provider:
    if settings.stac_provider == "planetary-computer":
        return Provider("planetary-computer", settings.pc_stac_url, "visual", "SCL", signed=True)
    return Provider("earth-search", settings.stac_url, "visual", "scl", signed=False)


@dataclass(frozen=True)
class BandAsset:
    """One reflectance band's COG and how its digital numbers become reflectance (parsed from the item)."""

    band: str
    href: str
    scale: float
    offset: float
    nodata: float | None
    scale_source: str  # "raster:bands" or "processing baseline NN.NN"

    @classmethod
    def from_stac_asset(cls, band: str, asset: dict, processing_baseline: object) -> BandAsset:
        """The item's own raster:bands scale/offset when it gives them, else DN / 10000 and the baseline's offset."""
        raster = (asset.get("raster:bands") or [{}])[0]
        nodata = raster.get("nodata", 0)
        if raster.get("scale") is not None:
            return cls(band, str(asset["href"]), float(raster["scale"]), float(raster.get("offset") or 0.0),
                       nodata, "raster:bands")  # fmt: skip
        try:
            baseline = float(str(processing_baseline))
        except ValueError:
            baseline = 0.0  # unknown: no offset (every scene before 2022)
        offset = -BOA_ADD_OFFSET_DN * L2A_DN_SCALE if baseline >= BOA_OFFSET_FROM_BASELINE else 0.0
        return cls(band, str(asset["href"]), L2A_DN_SCALE, offset, nodata, f"processing baseline {processing_baseline}")

    def reflectance(self, dn: np.ndarray) -> np.ndarray:
        """float32 reflectance of digital numbers; nodata pixels are 0."""
        out = dn.astype(np.float32) * np.float32(self.scale) + np.float32(self.offset)
        return np.where(dn == self.nodata, np.float32(0.0), out) if self.nodata is not None else out


@dataclass(frozen=True)
class SceneCandidate:
    """A search result reduced to what ranking needs (parsed at the edge from the STAC item)."""

    scene_id: str
    collection: str
    acquired: datetime
    epsg: int | None
    visual_href: str
    scl_href: str | None
    scene_cloud_fraction: float | None
    scene_nodata_fraction: float | None
    band_assets: tuple[BandAsset, ...] = ()

    def band(self, name: str) -> BandAsset | None:
        return next((b for b in self.band_assets if b.band == name), None)

    @classmethod
    def from_stac_item(cls, item: dict, provider: Provider) -> SceneCandidate | None:
        assets = item.get("assets") or {}
        visual = assets.get(provider.visual_key)
        if not visual or not visual.get("href"):
            return None
        props = item.get("properties") or {}
        stamp = props.get("datetime") or props.get("start_datetime")
        acquired = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        if acquired.tzinfo is None:
            acquired = acquired.replace(tzinfo=timezone.utc)
        epsg = props.get("proj:epsg") or visual.get("proj:epsg")
        code = props.get("proj:code") or visual.get("proj:code")
        if epsg is None and isinstance(code, str) and code.upper().startswith("EPSG:"):
            epsg = int(code.split(":")[1])
        cloud = props.get("eo:cloud_cover")
        nodata = props.get("s2:nodata_pixel_percentage")
        scl = assets.get(provider.scl_key)
        return cls(
            scene_id=str(item["id"]),
            collection=str(item.get("collection", COLLECTION)),
            acquired=acquired.astimezone(timezone.utc),
            epsg=int(epsg) if epsg is not None else None,
            visual_href=str(visual["href"]),
            scl_href=str(scl["href"]) if scl and scl.get("href") else None,
            scene_cloud_fraction=float(cloud) / 100.0 if cloud is not None else None,
            scene_nodata_fraction=float(nodata) / 100.0 if nodata is not None else None,
            band_assets=tuple(
                BandAsset.from_stac_asset(band, asset, props.get("s2:processing_baseline"))
                for band, keys in BAND_ASSET_KEYS.items()
                if (asset := next((assets[k] for k in keys if (assets.get(k) or {}).get("href")), None))
            ),
        )


@dataclass(frozen=True)
class RankedCandidate:
    candidate: SceneCandidate
    cloud_fraction: float
    nodata_fraction: float
    cloud_source: str  # "scl" (over the footprint) or "eo:cloud_cover" (whole tile)
    scl_failed: bool = False  # it has an SCL that could not be read now: a degraded, temporary answer

    @property
    def score(self) -> float:
        return self.cloud_fraction + self.nodata_fraction


@dataclass(frozen=True)
class Scene:
    """The real image of a footprint in a month: 512x512 uint8 RGB on the item's own UTM grid."""

    image: np.ndarray
    crs: str
    transform: Any  # affine.Affine
    scene_id: str
    acquired: datetime
    cloud_fraction: float
    nodata_fraction: float
    collection: str
    href: str
    provider: str
    month: str = ""
    latitude: float = math.nan
    longitude: float = math.nan
    cloud_source: str = "scl"
    source_pixel_size_m: float = 10.0
    resampled: bool = False
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.image.dtype != np.uint8 or self.image.ndim != 3 or self.image.shape[2] != 3:
            raise ValueError(f"Scene.image must be uint8 H x W x 3, got {self.image.dtype} {self.image.shape}")
        for name in ("cloud_fraction", "nodata_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Scene.{name} must be within 0..1, got {value}")
            # the cache stores FRACTION_DECIMALS: a fresh scene holds the same value, so nothing derived from it
            # (a dataset's cloud_coverage, a prompt) depends on whether it came from the cache
            object.__setattr__(self, name, round(float(value), FRACTION_DECIMALS))

    def to_metadata(self) -> dict:
        """JSON-safe description (no pixels)."""
        return {
            "scene_id": self.scene_id,
            "collection": self.collection,
            "provider": self.provider,
            "acquired": self.acquired.isoformat().replace("+00:00", "Z"),
            "month": self.month,
            "center_coordinates": [self.latitude, self.longitude],
            "cloud_fraction": round(self.cloud_fraction, FRACTION_DECIMALS),
            "cloud_source": self.cloud_source,
            "nodata_fraction": round(self.nodata_fraction, FRACTION_DECIMALS),
            "crs": self.crs,
            "transform": list(self.transform)[:6],
            "size_px": [int(self.image.shape[0]), int(self.image.shape[1])],
            "source_pixel_size_m": self.source_pixel_size_m,
            "resampled": self.resampled,
            "href": _strip_query(self.href),
            "notes": list(self.notes),
        }

    @classmethod
    def from_metadata(cls, meta: dict, image: np.ndarray) -> Scene:
        from affine import Affine

        return cls(
            image=image,
            crs=meta["crs"],
            transform=Affine(*meta["transform"]),
            scene_id=meta["scene_id"],
            acquired=datetime.fromisoformat(meta["acquired"].replace("Z", "+00:00")),
            cloud_fraction=float(meta["cloud_fraction"]),
            nodata_fraction=float(meta["nodata_fraction"]),
            collection=meta["collection"],
            href=meta["href"],
            provider=meta["provider"],
            month=meta.get("month", ""),
            latitude=float(meta["center_coordinates"][0]),
            longitude=float(meta["center_coordinates"][1]),
            cloud_source=meta.get("cloud_source", "scl"),
            source_pixel_size_m=float(meta.get("source_pixel_size_m", 10.0)),
            resampled=bool(meta.get("resampled", False)),
            notes=tuple(meta.get("notes", ())),
        )


def _strip_query(href: str) -> str:
    # Signed URLs carry a SAS token: keep it out of metadata and logs.
    return href.split("?", 1)[0]


def encode_png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise ValueError(f"a cached scene of {img.width} x {img.height} px is over the pixel limit")
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def search_scenes(
    point: Point, month: Month, settings: Settings, client: HttpClient, today: date | None = None
) -> list[SceneCandidate]:
    """Sentinel-2 L2A items over the footprint in the month (both bbox parts across the antimeridian)."""
    provider = provider_for(settings)
    footprint = Footprint.around(point)
    items = search_bbox_parts(
        client,
        f"{provider.url}/search",
        footprint.bbox_parts(),
        {"collections": [COLLECTION], "datetime": month_interval(month), "limit": SEARCH_LIMIT},
        service=f"STAC API ({provider.name})",
        collection=COLLECTION,
        # a month that is not over yet gets new scenes: its search expires
        max_age_s=fresh_month_max_age_s(month, settings, today),
    )
    candidates = [c for item in items if (c := SceneCandidate.from_stac_item(item, provider)) is not None]
    log.info("%d %s scene(s) over %s in %s", len(candidates), COLLECTION, point.label(), month)
    return candidates


def _footprint_for(point: Point, candidate: SceneCandidate) -> Footprint:
    # Read in the item's own grid (no resampling); fall back to the local UTM zone.
    return Footprint.around(point, epsg=candidate.epsg) if candidate.epsg else Footprint.around(point)


def rank_candidates(
    point: Point,
    candidates: list[SceneCandidate],
    settings: Settings,
    sign=None,
    max_candidates: int = MAX_CANDIDATES,
) -> list[RankedCandidate]:
    """Cloud and missing data over the footprint itself (SCL window) or, without an SCL, the tile's."""

    def tile_cloud(c: SceneCandidate) -> float:
        return c.scene_cloud_fraction if c.scene_cloud_fraction is not None else 1.0

    shortlist = sorted(candidates, key=lambda c: (tile_cloud(c), c.scene_nodata_fraction or 0.0))[:max_candidates]
    ranked = []
    for candidate in shortlist:
        if candidate.scl_href:
            try:
                href = sign(candidate.scl_href) if sign else candidate.scl_href
                scl = read_footprint(href, _footprint_for(point, candidate), settings, indexes=[1], size_px=SCL_READ_PX)
                classes = scl.data[0]
                valid = classes != SCL_NODATA
                nodata = 1.0 - float(valid.mean())
                cloud = float(np.isin(classes, SCL_CLOUD_CLASSES)[valid].mean()) if valid.any() else 1.0
                ranked.append(RankedCandidate(candidate, cloud, nodata, "scl"))
                continue
            except UpstreamError as err:
                log.warning("SCL of %s unreadable (%s); using its tile cloud cover", candidate.scene_id, err)
                tile = candidate.scene_nodata_fraction or 0.0
                ranked.append(
                    RankedCandidate(candidate, tile_cloud(candidate), tile, "eo:cloud_cover", scl_failed=True)
                )
                continue
        ranked.append(
            RankedCandidate(candidate, tile_cloud(candidate), candidate.scene_nodata_fraction or 0.0, "eo:cloud_cover")
        )
    return sorted(ranked, key=lambda r: (r.score, r.candidate.acquired))


def _href_signer(settings: Settings, client: HttpClient, provider: Provider):
    """href -> href with a Planetary Computer SAS token (Earth Search: unchanged)."""
    signer = PlanetaryComputerSigner(settings, client) if provider.signed else None
    return (lambda href: signer.sign(href, COLLECTION)) if signer else (lambda href: href)


def _scene_key(point: Point, month: Month, settings: Settings, size_px: int) -> str:
    provider = provider_for(settings)
    return request_key(
        "scene-v1", provider.name, provider.url, round(point.lat, 6), round(point.lon, 6), str(month), size_px
    )


def fetch_scene(
    point: Point,
    month: Month | str,
    settings: Settings,
    client: HttpClient | None = None,
    size_px: int = FOOTPRINT_PX,
    today: date | None = None,
) -> Scene:
    """The least-cloudy usable Sentinel-2 L2A true-colour image of the footprint in `month`.

    Served from the on-disk cache when this point and month were fetched before (also offline).
    For a month that is not over yet (`today`, default the current date) the cached choice
    expires after `settings.fresh_month_ttl_s`; if fetching it again fails, the cached scene is
    served with a note saying how old it is. A cache entry that does not decode is fetched again.

    Raises:
        BadRequestError: a month in the future, or a point in the open sea.
        NoImageryError: no scene, or none with enough valid pixels; names the month and best cloud cover.
        UpstreamError / OfflineCacheMissError: the services failed or offline without a cached copy.
    """
    month = Month.parse(month).ensure_not_future(today=today, what="imagery")
    # Sentinel-2 does not image the open sea: say so rather than "no scene this month".
    from core.sources.places import ensure_on_land

    ensure_on_land(point)
    cache = DiskCache(settings.cache_dir, "scenes")
    key = _scene_key(point, month, settings, size_px)
    cached = _cached_scene(cache, key)
    if cached is not None:
        max_age_s = fresh_month_max_age_s(month, settings, today)
        age_s = cache.age_s(key, ".json") or 0.0
        if settings.offline or max_age_s is None or age_s <= max_age_s:
            log.info("scene for %s %s from the cache", point.label(), month)
            return cached
        # The month is not over and the choice is older than the TTL: a clearer scene may exist now.
        try:
            return _fetch_fresh_scene(point, month, settings, client, size_px, cache, key, today)
        except UpstreamError as err:
            log.warning(
                "%s; using the cached scene chosen %s ago for %s %s",
                err.problem,
                describe_age(age_s),
                point.label(),
                month,
            )
            note = (
                f"served from the cache ({describe_age(age_s)} old) because the imagery service failed: {err.problem}"
            )
            return dataclasses.replace(cached, notes=(*cached.notes, note))
    return _fetch_fresh_scene(point, month, settings, client, size_px, cache, key, today)


def _cached_scene(cache: DiskCache, key: str) -> Scene | None:
    """The cached scene, or None; an entry that does not decode is discarded (it is fetched again)."""
    meta, png = cache.get_json(key), cache.get(key, ".png")
    if meta is None or png is None:
        return None
    try:
        return Scene.from_metadata(meta, decode_png(png))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OSError, SyntaxError) as err:
        cache.discard(key, ".json", f"unreadable scene entry: {type(err).__name__}: {err}")
        cache.discard(key, ".png")
        return None


def _fetch_fresh_scene(
    point: Point,
    month: Month,
    settings: Settings,
    client: HttpClient | None,
    size_px: int,
    cache: DiskCache,
    key: str,
    today: date | None = None,
) -> Scene:
    """Search, rank, read and cache the best scene (the network part of `fetch_scene`)."""
    client = client or HttpClient(settings)
    provider = provider_for(settings)
    # 1. Search.
    candidates = search_scenes(point, month, settings, client, today=today)
    if not candidates:
        raise NoImageryError(
            f"No Sentinel-2 L2A scene covers {point.label()} in {month} ({provider.name}); "
            "best cloud cover found: none.",
            "Pick another month or place (Sentinel-2 L2A starts in 2017 in most of the world, 2018 elsewhere).",
        )
    sign = _href_signer(settings, client, provider)
    # 2. Rank by cloud and missing data over the footprint.
    ranked = rank_candidates(point, candidates, settings, sign=sign)
    # 3. Read the visual window of the best candidate with enough valid pixels.
    best_cloud = min(r.cloud_fraction for r in ranked)
    for choice in ranked:
        if choice.nodata_fraction > MAX_NODATA_FRACTION:
            continue
        footprint = _footprint_for(point, choice.candidate)
        read = read_footprint(
            sign(choice.candidate.visual_href), footprint, settings, indexes=[1, 2, 3], size_px=size_px
        )
        image = np.ascontiguousarray(np.moveaxis(read.data, 0, -1)).astype(np.uint8, copy=False)
        nodata = float(np.all(image == 0, axis=-1).mean())
        if nodata > MAX_NODATA_FRACTION:
            log.info("%s: %.0f %% of the footprint is nodata; next candidate", choice.candidate.scene_id, 100 * nodata)
            continue
        notes = []
        if read.resampled:
            notes.append(
                f"the file's pixels are {read.source_pixel_size_m:g} m; the footprint was resampled to "
                f"{size_px} px ({footprint.width_m / size_px:g} m) with nearest neighbour"
            )
        if read.warped:
            notes.append(f"reprojected from {read.source_crs} to {read.crs}")
        scene = Scene(
            image=image,
            crs=read.crs,
            transform=read.transform,
            scene_id=choice.candidate.scene_id,
            acquired=choice.candidate.acquired,
            cloud_fraction=min(1.0, max(0.0, choice.cloud_fraction)),
            nodata_fraction=nodata,
            collection=choice.candidate.collection,
            href=_strip_query(choice.candidate.visual_href),
            provider=provider.name,
            month=str(month),
            latitude=point.lat,
            longitude=point.lon,
            cloud_source=choice.cloud_source,
            source_pixel_size_m=read.source_pixel_size_m,
            resampled=read.resampled,
            notes=tuple(notes),
        )
        degraded = [r.candidate.scene_id for r in ranked if r.scl_failed]
        if degraded:
            # ranked on a tile-wide stand-in for an SCL that failed now: a later try may choose otherwise
            note = (
                f"the cloud mask (SCL) of {', '.join(degraded)} could not be read, so the whole tile's cloud cover "
                "stood in; this choice is not cached and is made again next time"
            )
            log.warning("%s at %s %s", note, point.label(), month)
            return dataclasses.replace(scene, notes=(*scene.notes, note))
        # 4. Cache: the PNG first, the metadata last, so a metadata entry implies its image.
        cache.put(key, encode_png(scene.image), ".png")
        cache.put_json(key, scene.to_metadata())
        return scene
    raise NoImageryError(
        f"No usable Sentinel-2 L2A scene at {point.label()} in {month}: {len(ranked)} candidate(s) "
        f"miss more than {MAX_NODATA_FRACTION:.0%} of the footprint; best cloud cover found: {best_cloud:.0%}.",
        "Pick another month, or a point further inside the satellite's swath.",
    )


@dataclass(frozen=True)
class SceneBands:
    """Surface reflectance of a footprint from one Sentinel-2 L2A scene (B04 B03 B02 B08).

    Attributes:
        arrays: band -> float32 size x size reflectance on the footprint grid (`crs`, `transform`); nodata is 0.
        m_per_px: ground size of a pixel of `arrays`.
        scaling: band -> (scale, offset, where they came from) applied to the digital numbers.
    """

    arrays: dict[str, np.ndarray] = field(repr=False)
    crs: str
    transform: Any  # affine.Affine
    m_per_px: float
    scene_id: str
    acquired: datetime
    provider: str
    month: str
    nodata_fraction: float
    hrefs: dict[str, str]
    scaling: dict[str, tuple[float, float, str]]
    notes: tuple[str, ...] = ()

    def to_metadata(self) -> dict:
        """JSON-safe description (no pixels): which scene and date the bands come from, and how they were scaled."""
        return {
            "scene_id": self.scene_id,
            "acquired": self.acquired.isoformat().replace("+00:00", "Z"),
            "month": self.month,
            "provider": self.provider,
            "bands": list(self.arrays),
            "m_per_px": self.m_per_px,
            "nodata_fraction": round(self.nodata_fraction, 6),
            "hrefs": {band: _strip_query(href) for band, href in self.hrefs.items()},
            "scaling": {b: {"scale": sc, "offset": off, "from": src} for b, (sc, off, src) in self.scaling.items()},
            "notes": list(self.notes),
        }


def fetch_scene_bands(
    point: Point,
    month: Month | str,
    settings: Settings,
    client: HttpClient | None = None,
    size_px: int = FOOTPRINT_PX,
    today: date | None = None,
) -> SceneBands:
    """B04/B03/B02/B08 reflectance of the least-cloudy usable scene of `month` over the footprint.

    The scene is chosen as `fetch_scene` chooses it (SCL cloud over the footprint); each band COG is
    read over the footprint window only and resampled to `size_px` (bilinear where its pixels are not
    the footprint's), then scaled to reflectance with the item's scale/offset. Not cached on disk.

    Raises:
        NoImageryError: no usable scene, or the chosen scene has no asset for one of the four bands.
        UpstreamError / OfflineCacheMissError: the services failed, or offline.
    """
    month = Month.parse(month).ensure_not_future(today=today, what="imagery")
    client = client or HttpClient(settings)
    provider = provider_for(settings)
    candidates = search_scenes(point, month, settings, client, today=today)
    sign = _href_signer(settings, client, provider)
    ranked = rank_candidates(point, candidates, settings, sign=sign)
    usable = [r for r in ranked if r.nodata_fraction <= MAX_NODATA_FRACTION]
    if not usable:
        raise NoImageryError(
            f"No usable Sentinel-2 L2A scene at {point.label()} in {month} ({provider.name}) to read bands from.",
            "Pick another month or place.",
        )
    chosen = usable[0].candidate
    missing = [band for band in REFLECTANCE_BANDS if chosen.band(band) is None]
    if missing:
        raise NoImageryError(
            f"The scene {chosen.scene_id} of {chosen.acquired.date()} has no {', '.join(missing)} asset "
            f"(it needs {', '.join(REFLECTANCE_BANDS)} reflectance).",
            "Pick another month, or a STAC provider whose items carry band COGs (earth-search, planetary-computer).",
        )
    footprint = _footprint_for(point, chosen)
    arrays, notes, valid = {}, [], np.ones((size_px, size_px), bool)
    for band in REFLECTANCE_BANDS:
        asset = chosen.band(band)
        read = read_footprint(
            sign(asset.href), footprint, settings, indexes=[1], size_px=size_px, resampling="bilinear"
        )
        arrays[band] = asset.reflectance(read.data[0])
        if asset.nodata is not None:
            valid &= read.data[0] != asset.nodata
        if read.resampled or read.warped:
            notes.append(f"{band}: {read.source_pixel_size_m:g} m pixels resampled (bilinear) to the footprint grid")
    return SceneBands(
        arrays=arrays,
        crs=footprint.crs,
        transform=footprint.transform_at(size_px),
        m_per_px=footprint.width_m / size_px,
        scene_id=chosen.scene_id,
        acquired=chosen.acquired,
        provider=provider.name,
        month=str(month),
        nodata_fraction=1.0 - float(valid.mean()),
        hrefs={band: chosen.band(band).href for band in REFLECTANCE_BANDS},
        scaling={band: (b.scale, b.offset, b.scale_source) for band in REFLECTANCE_BANDS if (b := chosen.band(band))},
        notes=tuple(notes),
    )
