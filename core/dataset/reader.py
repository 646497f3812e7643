"""Reader for the EcoMapper dataset: per-location folders of PNG + JSON pairs, or the CSV variant.

Layouts (facts from the EcoMapper repository's `example_dataset/` and its dataset card):

* folders: ``<any>/<loc>/<loc>_<YYYY-MM>.png`` beside ``<loc>_<YYYY-MM>.json`` with keys ``type``,
  ``date``, ``center_coordinates`` ([lat, lon]), ``cloud_coverage`` (0..1), ``country_code`` (may be the
  string "null") and, in the train batches, ``caption_info`` with ``location_address`` and climate strings.
  The dataset card also shows ``<loc>_<YYYY>_<MM>_01.png``; both names are accepted.
* CSV: columns ``location_id, date, latitude, longitude, type, location_address, cloud_coverage,
  average_temp, average_prep, average_rad, img_path`` (``img_path`` relative to the CSV's folder).

Bad files are skipped with a reason each (`Dataset.skipped`), never silently.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.climate.values import ClimateValues
from core.errors import BadRequestError, EcoMapperError
from core.geo import Month, Point
from core.sources.land_cover_classes import LAND_COVER_CLASSES

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "location_id",
    "date",
    "latitude",
    "longitude",
    "type",
    "location_address",
    "cloud_coverage",
    "average_temp",
    "average_prep",
    "average_rad",
    "img_path",
)
# A 512 x 512 Sentinel-2 scene compresses to tens of kB at least; a PNG this small holds
# (almost) one colour: nodata or saturated cloud. Cheap pre-filter before any decoding.
MIN_PNG_BYTES = 2048
# Decoded images with more than this share of pure-black (nodata) pixels are not a usable scene.
MAX_NODATA_FRACTION = 0.5
# Per-channel standard deviation (0..255) below which an image is a single flat colour.
MIN_CHANNEL_STD = 1.0
# The ControlNet control image is 1 to 6 months older than the target in the paper.
MAX_CONTROL_GAP_MONTHS = 6

_STEM_RE = re.compile(r"^(?P<loc>.+?)_(?P<year>\d{4})[-_](?P<month>\d{1,2})(?:[-_]\d{1,2})?$")
# "The average temperature over the last month was -2.83 C with an average precipitation of 4.08 mm
#  and an average daily solar radiation of 9.62 kWh/m2" (the unit label is wrong: values are MJ/m^2/day)
_CLIMATE_SENTENCE_RE = re.compile(
    r"temperature[^-\d]*(?P<t>-?\d+(?:\.\d+)?)\s*C.*?precipitation[^-\d]*(?P<p>-?\d+(?:\.\d+)?)\s*mm"
    r".*?radiation[^-\d]*(?P<r>-?\d+(?:\.\d+)?)",
    re.IGNORECASE | re.DOTALL,
)
_MISSING = ("", "null", "none", "nan", "n/a")


class SkipSample(EcoMapperError):
    """Raised inside the reader for one unusable file; turned into a `SkippedFile`."""


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of the dataset and why (`reason` starts with a short category)."""

    path: Path
    reason: str

    @property
    def category(self) -> str:
        return self.reason.split(":", 1)[0]


@dataclass(frozen=True)
class SampleMetadata:
    """What is known about one observation, parsed from its JSON or CSV row."""

    location_id: str
    month: Month
    point: Point
    land_cover: str
    cloud_fraction: float
    climate: ClimateValues | None
    state: str | None
    country: str | None
    address: str | None = None

    def __post_init__(self) -> None:
        if not self.location_id:
            raise BadRequestError("A sample has an empty location id.", "Give every location a non-empty id.")
        if not self.land_cover:
            raise BadRequestError(f"Sample {self.location_id} {self.month} has no land cover.", "Set its `type` field.")
        if not (isinstance(self.cloud_fraction, (int, float)) and 0.0 <= self.cloud_fraction <= 1.0):
            raise BadRequestError(
                f"Sample {self.location_id} {self.month} has cloud fraction {self.cloud_fraction!r}.",
                "Give cloud_coverage as a fraction between 0 and 1.",
            )

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe flat view (used in result files and tables)."""
        climate = self.climate.as_dict() if self.climate else {}
        return {
            "location_id": self.location_id,
            "month": str(self.month),
            "year": self.month.year,
            "lat": self.point.lat,
            "lon": self.point.lon,
            "land_cover": self.land_cover,
            "cloud_fraction": self.cloud_fraction,
            "temp_c": climate.get("temp_c"),
            "precip_mm_day": climate.get("precip_mm_day"),
            "solar_mj_m2_day": climate.get("solar_mj_m2_day"),
            "state": self.state,
            "country": self.country,
        }


@dataclass(frozen=True)
class Sample:
    """One month at one location. The image is read from disk each time `image` is used (lazy)."""

    image_path: Path
    metadata: SampleMetadata
    source_path: Path

    @property
    def location_id(self) -> str:
        return self.metadata.location_id

    @property
    def month(self) -> Month:
        return self.metadata.month

    @property
    def sample_id(self) -> str:
        """Stable unique key: location and month."""
        return f"{self.metadata.location_id}@{self.metadata.month}"

    @property
    def image(self) -> np.ndarray:
        """The RGB image as np.uint8 H x W x 3 (raises BadRequestError if it cannot be used)."""
        image = load_rgb(self.image_path)
        problem = image_problem(image)
        if problem:
            raise BadRequestError(f"{self.image_path} is not usable ({problem}).", "Remove it or re-download it.")
        return image

    @property
    def prompt_inputs(self):
        """The `core.generation.prompts.PromptInputs` of this sample (full prompt, as in evaluation)."""
        return sample_prompt_inputs(self.metadata)

    @property
    def prompts(self):
        """The EcoMapper spatial and climate prompts (`core.generation.prompts.Prompts`)."""
        return build_sample_prompts(self.metadata)


def sample_prompt_inputs(metadata: SampleMetadata):
    """Map dataset metadata onto the prompt builder's inputs.

    Raises:
        BadRequestError: the sample has no country (no address and no offline geocoding possible).
    """
    from core.generation.prompts import PromptInputs

    if not metadata.country:
        raise BadRequestError(
            f"Sample {metadata.location_id} {metadata.month} has no country for its prompt.",
            "Add `caption_info.location_address` (or `location_address` in the CSV).",
        )
    return PromptInputs.of(metadata)


def build_sample_prompts(metadata: SampleMetadata):
    """The prompts of a sample, built by `core.generation.prompts.build_prompts` (exact EcoMapper wording)."""
    from core.generation.prompts import build_prompts

    return build_prompts(sample_prompt_inputs(metadata))


@dataclass(frozen=True)
class Dataset:
    """Samples sorted by (location, month), and the files that were skipped with their reasons."""

    root: Path
    samples: tuple[Sample, ...]
    skipped: tuple[SkippedFile, ...] = ()
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({sample.sample_id: i for i, sample in enumerate(self.samples)})

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        return (
            f"Dataset(root={str(self.root)!r}, samples={len(self.samples)}, "
            f"locations={len(self.location_ids)}, skipped={len(self.skipped)})"
        )

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __getitem__(self, index: int) -> Sample:
        return self.samples[index]

    def get(self, sample_id: str) -> Sample | None:
        index = self._index.get(sample_id)
        return None if index is None else self.samples[index]

    @property
    def location_ids(self) -> tuple[str, ...]:
        return tuple(sorted({sample.location_id for sample in self.samples}))

    def skip_counts(self) -> dict[str, int]:
        """How many files were skipped, per reason category."""
        return dict(Counter(item.category for item in self.skipped))

    def previous_sample(self, sample: Sample, max_gap_months: int = MAX_CONTROL_GAP_MONTHS) -> Sample | None:
        """The latest real observation of the same location 1..`max_gap_months` months before `sample`."""
        for gap in range(1, max_gap_months + 1):
            earlier = self.get(f"{sample.location_id}@{sample.month - gap}")
            if earlier is not None:
                return earlier
        return None

    def without(self, bad: list[SkippedFile] | tuple[SkippedFile, ...]) -> Dataset:
        """The dataset minus the samples whose image is in `bad`, which joins `skipped`."""
        bad_paths = {item.path for item in bad}
        kept = tuple(sample for sample in self.samples if sample.image_path not in bad_paths)
        skipped = tuple(sorted((*self.skipped, *bad), key=lambda item: str(item.path)))
        return Dataset(root=self.root, samples=kept, skipped=skipped)

    def subset(self, location_ids: set[str] | frozenset[str] | tuple[str, ...]) -> Dataset:
        wanted = set(location_ids)
        kept = tuple(sample for sample in self.samples if sample.location_id in wanted)
        return Dataset(root=self.root, samples=kept, skipped=self.skipped)

    def split(self, fractions: Mapping[str, float], seed: int = 0) -> dict[str, Dataset]:
        """Split by location (never by month), seeded and deterministic.

        Args:
            fractions: split name -> share of locations, e.g. {"train": 0.8, "val": 0.1, "test": 0.1}.
            seed: shuffling seed; the same seed and locations always give the same split.

        Returns:
            split name -> Dataset; every location is in exactly one split.
        """
        return {name: self.subset(ids) for name, ids in split_locations(self.location_ids, fractions, seed).items()}


def split_locations(location_ids: tuple[str, ...], fractions: Mapping[str, float], seed: int = 0) -> dict[str, tuple]:
    """Assign sorted location ids to named splits by a seeded permutation (largest remainder rounding)."""
    if not fractions or any((not math.isfinite(v)) or v < 0 for v in fractions.values()):
        raise BadRequestError(f"Split fractions {dict(fractions)} are invalid.", "Give non-negative shares per split.")
    total = sum(fractions.values())
    if total <= 0:
        raise BadRequestError(f"Split fractions {dict(fractions)} sum to 0.", "Give at least one positive share.")
    ids = sorted(location_ids)
    order = np.random.default_rng(seed).permutation(len(ids))
    shuffled = [ids[i] for i in order]
    exact = {name: len(ids) * share / total for name, share in fractions.items()}
    counts = {name: math.floor(value) for name, value in exact.items()}
    leftover = len(ids) - sum(counts.values())
    for name in sorted(exact, key=lambda n: (counts[n] - exact[n], list(fractions).index(n)))[:leftover]:
        counts[name] += 1
    result, start = {}, 0
    for name in fractions:
        result[name] = tuple(sorted(shuffled[start : start + counts[name]]))
        start += counts[name]
    return result


# ----------------------------------------------------------------------------- reading


def read_dataset(
    path: str | Path,
    *,
    check_pixels: bool = False,
    place_resolver: Callable[[Point], tuple[str | None, str | None]] | None = None,
    open_images: bool = True,
    resolve_places: bool = True,
) -> Dataset:
    """Read an EcoMapper dataset (folder of location folders, or a CSV file).

    Args:
        path: the dataset folder, or the CSV file of the CSV variant.
        check_pixels: decode every image now and skip near-empty or blank ones (slower, but
            evaluation then never meets a bad image); otherwise only headers and sizes are checked
            and images are decoded lazily.
        place_resolver: point -> (state, country) for samples without an address; defaults to the
            offline reverse geocoder `core.sources.places` when it is installed.
        open_images: check each PNG's signature and chunk CRCs now (reads every image file). False
            checks only file sizes, so the scan reads metadata alone and costs the same whatever
            the images weigh; check the samples you use with `sample_problem` (evaluation does).
        resolve_places: look up the place of samples without an address now (loads the geocoder).
            False leaves their `country` None; `with_place` resolves one sample when it is used.

    Returns:
        The Dataset; `skipped` lists every unusable file with its reason.

    Raises:
        BadRequestError: the path does not exist or holds no EcoMapper samples at all.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise BadRequestError(
            f"The dataset path {root} does not exist.",
            "Give the folder holding the location folders (or the dataset CSV file).",
        )
    resolver = None
    if resolve_places:
        resolver = place_resolver if place_resolver is not None else _default_place_resolver()
    check_image = _check_png_header if open_images else _check_png_size
    if root.is_file():
        if root.suffix.lower() != ".csv":
            raise BadRequestError(f"{root} is a file but not a CSV.", "Give a dataset folder or its CSV file.")
        samples, skipped = _read_csv(root, resolver, check_image)
        base = root.parent
    else:
        samples, skipped = _read_folders(root, resolver, check_image)
        if not samples and not skipped:
            csv_files = sorted(root.glob("*.csv"))
            for csv_file in csv_files:
                more, more_skipped = _read_csv(csv_file, resolver, check_image)
                samples += more
                skipped += more_skipped
        base = root
    if check_pixels:
        samples, bad = _check_pixels(samples)
        skipped += bad
    if not samples and not skipped:
        raise BadRequestError(
            f"No EcoMapper samples (<loc>_<YYYY-MM>.png with a .json beside it, or a CSV) under {root}.",
            "Give the dataset folder (evaluate --data, train --data-dir), e.g. the one holding `2017-2018/` or "
            "location folders.",
        )
    samples, duplicates = _drop_duplicates(samples)
    skipped += duplicates
    samples.sort(key=lambda s: (s.location_id, s.month))
    skipped.sort(key=lambda s: str(s.path))
    for item in skipped:
        log.info("skipped %s: %s", item.path, item.reason)
    if skipped:
        log.warning("%d file(s) skipped in %s: %s", len(skipped), root, dict(Counter(s.category for s in skipped)))
    return Dataset(root=base, samples=tuple(samples), skipped=tuple(skipped))


def default_place_resolver(settings=None) -> Callable[[Point], tuple[str | None, str | None]] | None:
    """The reverse geocoder the app and `core prompt` use (`core.sources.places`: country polygon, admin-1
    polygon of the settings' boundaries; settings from the environment when not given), one lookup per
    point, or None without it."""
    return _default_place_resolver(settings)


def with_place(sample: Sample, resolver: Callable[[Point], tuple[str | None, str | None]] | None) -> Sample:
    """The sample with its state and country looked up when its metadata has no country.

    Raises:
        SkipSample: the resolver cannot place the point (e.g. it is in the open sea).
    """
    if sample.metadata.country or resolver is None:
        return sample
    try:
        state, country = resolver(sample.metadata.point)
    except BadRequestError as err:
        raise SkipSample(f"no place: {err.problem}") from err
    metadata = dataclasses.replace(sample.metadata, state=sample.metadata.state or state, country=country)
    return dataclasses.replace(sample, metadata=metadata)


def _default_place_resolver(settings=None) -> Callable[[Point], tuple[str | None, str | None]] | None:
    try:
        from core.sources.places import reverse_geocode
    except ImportError:
        return None
    if settings is None:
        from core.config import Settings

        settings = Settings.from_env()  # the app's boundaries (installed admin-1 polygons by default)

    cache: dict[tuple[float, float], tuple[str | None, str | None]] = {}

    def resolve(point: Point) -> tuple[str | None, str | None]:
        # every month of a location shares one point: geocode it once
        key = (point.lat, point.lon)
        if key not in cache:
            place = reverse_geocode(point, settings)
            cache[key] = (place.state, place.country)
        return cache[key]

    return resolve


def _read_folders(root: Path, resolver, check_image) -> tuple[list[Sample], list[SkippedFile]]:
    samples: list[Sample] = []
    skipped: list[SkippedFile] = []
    for json_path in sorted(root.rglob("*.json")):
        match = _STEM_RE.match(json_path.stem)
        if not match:
            continue  # not a sample file (e.g. a stats file)
        png_path = json_path.with_suffix(".png")
        if not png_path.exists():
            skipped.append(SkippedFile(json_path, f"missing image: no {png_path.name} beside the JSON"))
            continue
        try:
            record = _load_json(json_path)
            folder = json_path.parent.relative_to(root).as_posix()
            location_id = folder if folder not in ("", ".") else match.group("loc")
            name_month = Month(int(match.group("year")), int(match.group("month")))
            metadata = _metadata_from_json(record, location_id, name_month, resolver)
        except (SkipSample, BadRequestError) as err:
            skipped.append(SkippedFile(json_path, _reason(err)))
            continue
        try:
            check_image(png_path)
        except SkipSample as err:
            skipped.append(SkippedFile(png_path, _reason(err)))
            continue
        samples.append(Sample(image_path=png_path, metadata=metadata, source_path=json_path))
    for png_path in sorted(root.rglob("*.png")):
        if _STEM_RE.match(png_path.stem) and not png_path.with_suffix(".json").exists():
            skipped.append(SkippedFile(png_path, "missing metadata: no .json beside the image"))
    return samples, skipped


def _reason(err: Exception) -> str:
    if isinstance(err, SkipSample):
        return err.problem
    return f"invalid metadata: {err}"


def _load_json(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError as err:  # one deeply nested file once aborted a whole evaluation
        raise SkipSample("corrupt json: nested too deeply to read") from err
    except (OSError, ValueError) as err:  # JSONDecodeError, UnicodeDecodeError, a 5000-digit number
        raise SkipSample(f"corrupt json: {str(err).split(';')[0]}") from err
    if not isinstance(record, dict):
        raise SkipSample("corrupt json: the top level is not an object")
    return record


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and value.strip().lower() in _MISSING)


def _require(record: Mapping, key: str, what: str = "json") -> Any:
    value = record.get(key)
    if not _present(value):
        state = "missing" if key not in record else f"{value!r}"
        raise SkipSample(f"missing key: {what} key `{key}` is {state}")
    return value


def _as_float(value: Any, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise SkipSample(f"bad value: `{key}` is {value!r}, not a number") from err
    if not math.isfinite(number):
        raise SkipSample(f"bad value: `{key}` is {value!r}")
    return number


def _metadata_from_json(record: dict, location_id: str, name_month: Month, resolver) -> SampleMetadata:
    land_cover = str(_require(record, "type")).strip()
    coords = _require(record, "center_coordinates")
    if not isinstance(coords, (list, tuple)) or len(coords) != 2:
        raise SkipSample(f"bad value: `center_coordinates` is {coords!r}, not [lat, lon]")
    lat, lon = _as_float(coords[0], "center_coordinates[0]"), _as_float(coords[1], "center_coordinates[1]")
    cloud = _as_float(_require(record, "cloud_coverage"), "cloud_coverage")
    month = name_month
    if _present(record.get("date")):
        try:
            month = Month.parse(str(record["date"]))
        except BadRequestError as err:
            raise SkipSample(f"bad value: `date` is {record['date']!r}") from err
        if month != name_month:
            raise SkipSample(f"inconsistent date: json says {month}, the file name says {name_month}")
    info = record.get("caption_info") if isinstance(record.get("caption_info"), dict) else {}
    address = info.get("location_address") if _present(info.get("location_address")) else None
    climate = _climate_from_record(record, info)
    return _build_metadata(location_id, month, lat, lon, land_cover, cloud, climate, address, resolver)


def _climate_from_record(record: Mapping, info: Mapping) -> ClimateValues | None:
    """Climate from `climate_values` (our builder's full precision) or else the caption strings (EcoMapper's
    train batches, 2 decimals); None when the record has none (test batch)."""
    exact = record.get("climate_values")
    if isinstance(exact, Mapping):
        return _climate(exact.get("temp_c"), exact.get("precip_mm_day"), exact.get("solar_mj_m2_day"))
    # caption_info holds the values the EcoMapper captions were built from; caption_3 is an older string.
    for text in (info.get("climate_str_1"), info.get("climate_str_2"), record.get("caption_3")):
        if not _present(text) or not isinstance(text, str):
            continue
        match = _CLIMATE_SENTENCE_RE.search(text)
        if match:
            return _climate(match.group("t"), match.group("p"), match.group("r"))
    return None


def _climate(temp: Any, precip: Any, solar: Any) -> ClimateValues | None:
    values = [temp, precip, solar]
    if not any(_present(v) for v in values):
        return None
    if not all(_present(v) for v in values):
        raise SkipSample(f"missing key: climate values are incomplete ({temp!r}, {precip!r}, {solar!r})")
    try:
        return ClimateValues(
            _as_float(temp, "temperature"), _as_float(precip, "precipitation"), _as_float(solar, "solar radiation")
        )
    except BadRequestError as err:
        raise SkipSample(f"bad value: {err.problem}") from err


def _build_metadata(location_id, month, lat, lon, land_cover, cloud, climate, address, resolver) -> SampleMetadata:
    try:
        point = Point(lat, lon)
    except BadRequestError as err:
        raise SkipSample(f"bad value: {err.problem}") from err
    if not 0.0 <= cloud <= 1.0:
        raise SkipSample(f"bad value: `cloud_coverage` is {cloud:g}, not a fraction in 0..1")
    if land_cover not in LAND_COVER_CLASSES:
        raise SkipSample(f"unknown land cover: {land_cover!r} is not one of the 15 EcoMapper classes")
    state, country = parse_address(address) if address else (None, None)
    if country is None and resolver is not None:
        try:
            state, country = resolver(point)
        except BadRequestError as err:
            raise SkipSample(f"no place: {err.problem}") from err
    return SampleMetadata(
        location_id=location_id,
        month=month,
        point=point,
        land_cover=land_cover,
        cloud_fraction=cloud,
        climate=climate,
        state=state,
        country=country,
        address=address,
    )


def parse_address(address: str) -> tuple[str | None, str | None]:
    """`"Krasnoyarsk Krai, Russia"` -> ("Krasnoyarsk Krai", "Russia"), split as the original EcoMapper
    code does: at the first ", " only, so "A, B, C" -> ("A", "B, C"); one part -> (None, country)."""
    from core.generation.prompts import split_address

    text = str(address).strip()
    if not text:
        return None, None
    state, country = split_address(text)
    return (state.strip() or None) if state else None, country.strip() or None


# The original's test loader (data_utils/datasets_test.py `is_valid_row`) drops a row with any of these empty.
SUBSET_REQUIRED_VALUES = (
    "date",
    "latitude",
    "longitude",
    "location_address",
    "cloud_coverage",
    "average_temp",
    "average_prep",
    "average_rad",
)


def read_subset(csv_path: str | Path, data_root: str | Path, *, open_images: bool = False) -> Dataset:
    """The samples an original evaluation list names (e.g. `seed_98_final_test_single_image.csv`), in its row order.

    As the original's `process_csv`: each row's image is `<data_root>/<location_id>/<img_path>`
    (also tried: `<data_root>/<img_path>`), its caption values come from the row, and a row is
    skipped when its image file is missing ("missing file") or one of `SUBSET_REQUIRED_VALUES`
    is empty / NaN ("NaN value"); `Dataset.skip_counts()` counts both.

    Raises:
        BadRequestError: the CSV cannot be read, lacks a column, or no row is usable.
    """
    csv_path, root = Path(csv_path).expanduser(), Path(data_root).expanduser()
    if not csv_path.is_file():
        raise BadRequestError(f"The subset CSV {csv_path} does not exist.", "Give the evaluation list's CSV file.")
    if not root.is_dir():
        raise BadRequestError(f"The dataset folder {root} does not exist.", "Give --data: the folders' parent.")
    check_image = _check_png_header if open_images else _check_png_size
    samples, skipped = _read_csv(csv_path, None, check_image, image_root=root)
    if not samples:
        raise BadRequestError(
            f"No row of {csv_path} names a usable image under {root} ({len(skipped)} rows skipped: "
            f"{dict(Counter(s.category for s in skipped))}).",
            "Give --data the folder holding the <location_id>/ folders the CSV's img_path values are in.",
        )
    samples, duplicates = _drop_duplicates(samples)
    return Dataset(root=root, samples=tuple(samples), skipped=tuple([*skipped, *duplicates]))


def _subset_image(row: Mapping, root: Path) -> Path:
    """The original's `os.path.join(root, dataset_name, location_id, img_path)`, or the path under the root."""
    name = str(_require(row, "img_path", "csv")).strip()
    candidates = (root / str(row.get("location_id", "")).strip() / name, root / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise SkipSample(f"missing file: {candidates[0]} does not exist")


def _read_csv(
    csv_path: Path, resolver, check_image=None, image_root: Path | None = None
) -> tuple[list[Sample], list[SkippedFile]]:
    """Rows of a dataset CSV (`img_path` relative to the CSV), or of an original evaluation list
    (`image_root` given: images under it as `read_subset` says, rows with an empty value skipped)."""
    check_image = check_image or _check_png_header
    samples: list[Sample] = []
    skipped: list[SkippedFile] = []
    try:
        handle = csv_path.open(newline="", encoding="utf-8")
    except OSError as err:
        raise BadRequestError(f"Cannot read the dataset CSV {csv_path}: {err}.", "Check the path.") from err
    with handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        needed = ("location_id", "type", "img_path", *SUBSET_REQUIRED_VALUES) if image_root else CSV_COLUMNS[:5]
        missing = [c for c in (*needed, "img_path") if c not in columns]
        if missing:
            raise BadRequestError(
                f"The CSV {csv_path} lacks the column(s) {', '.join(missing)}.",
                f"EcoMapper CSVs have the columns {', '.join(CSV_COLUMNS)}.",
            )
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip(): v for k, v in raw.items()}
            where = Path(f"{csv_path}:{line}")
            try:
                if image_root is not None:
                    image_path = _subset_image(row, image_root)
                    empty = [key for key in SUBSET_REQUIRED_VALUES if not _present(row.get(key))]
                    if empty:
                        raise SkipSample(f"NaN value: {', '.join(empty)} empty in the row")
                else:
                    image_path = (csv_path.parent / str(_require(row, "img_path", "csv"))).resolve()
                    if not image_path.exists():
                        raise SkipSample(f"missing image: {image_path} does not exist")
                month = _csv_month(str(_require(row, "date", "csv")))
                cloud_raw = row.get("cloud_coverage")
                cloud = _as_float(cloud_raw, "cloud_coverage") if _present(cloud_raw) else 0.0
                if cloud > 1.0:  # some exports write percent
                    cloud /= 100.0
                climate = _climate(row.get("average_temp"), row.get("average_prep"), row.get("average_rad"))
                address = row.get("location_address") if _present(row.get("location_address")) else None
                metadata = _build_metadata(
                    str(_require(row, "location_id", "csv")).strip(),
                    month,
                    _as_float(_require(row, "latitude", "csv"), "latitude"),
                    _as_float(_require(row, "longitude", "csv"), "longitude"),
                    str(_require(row, "type", "csv")).strip(),
                    cloud,
                    climate,
                    address,
                    resolver,
                )
                check_image(image_path)
            except (SkipSample, BadRequestError) as err:
                skipped.append(SkippedFile(where, _reason(err)))
                continue
            samples.append(Sample(image_path=image_path, metadata=metadata, source_path=csv_path))
    return samples, skipped


def _csv_month(text: str) -> Month:
    """CSV dates come as YYYY-MM or YYYY-MM-DD."""
    try:
        return Month.parse(text.strip()[:7])
    except BadRequestError as err:
        raise SkipSample(f"bad value: `date` is {text!r}") from err


def _drop_duplicates(samples: list[Sample]) -> tuple[list[Sample], list[SkippedFile]]:
    seen: dict[str, Sample] = {}
    duplicates = []
    for sample in samples:
        if sample.sample_id in seen:
            duplicates.append(
                SkippedFile(sample.source_path, f"duplicate: {sample.sample_id} also in {seen[sample.sample_id]}")
            )
        else:
            seen[sample.sample_id] = sample
    return list(seen.values()), duplicates


# ----------------------------------------------------------------------------- images


def _check_png_size(path: Path) -> None:
    """The cheapest check, without opening the file: its size on disk."""
    size = path.stat().st_size
    if size < MIN_PNG_BYTES:
        raise SkipSample(f"near-empty image: {path.name} is only {size} bytes (a flat nodata or cloud image)")


def _check_png_header(path: Path) -> None:
    """Cheap checks without decoding pixels: size on disk, PNG signature, chunk CRCs."""
    from PIL import Image, UnidentifiedImageError

    _check_png_size(path)
    from core.io.images import check_pixel_count

    try:
        with Image.open(path) as image:
            # a decompression bomb is skipped here, from its header, before anything decodes it
            check_pixel_count(image.size, "image", path.name)
            image.verify()
    except BadRequestError as err:
        raise SkipSample(f"image too large: {err.problem}") from err
    except Image.DecompressionBombError as err:
        raise SkipSample(f"image too large: {path.name} ({err})") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise SkipSample(f"corrupt image: {path.name} cannot be read ({err})") from err


def load_rgb(path: str | Path) -> np.ndarray:
    """Decode an image file into np.uint8 H x W x 3 RGB.

    Raises:
        BadRequestError: the file is missing or not a readable image.
    """
    from core.io.images import read_rgb

    try:
        return read_rgb(path, "dataset image")
    except BadRequestError as err:  # the cause is kept: callers tell a bomb from a corrupt file
        raise BadRequestError(err.problem, "Remove or re-download it.") from err


def image_problem(image: np.ndarray) -> str | None:
    """Why a decoded image is not a usable scene (mostly nodata, one flat colour), or None."""
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 8 or image.shape[1] < 8:
        return f"shape {image.shape} is not an RGB image"
    nodata_fraction = float((image == 0).all(axis=2).mean())
    if nodata_fraction > MAX_NODATA_FRACTION:
        return f"near-empty image: {nodata_fraction:.0%} of pixels are nodata (black)"
    if float(image.reshape(-1, 3).std(axis=0).max()) < MIN_CHANNEL_STD:
        return "near-empty image: a single flat colour (nodata or saturated cloud)"
    return None


def sample_problem(sample: Sample) -> tuple[np.ndarray | None, SkippedFile | None]:
    """Decode one sample's image: (image, None) when usable, else (None, why it is not).

    The decoded image is returned so that a caller checking a sample it is about to use does not
    decode it twice.
    """
    from core.io.images import ImageTooLargeError

    try:
        image = load_rgb(sample.image_path)
    except BadRequestError as err:
        too_large = isinstance(err.__cause__, ImageTooLargeError)  # a decompression bomb, refused unread
        return None, SkippedFile(
            sample.image_path, f"{'image too large' if too_large else 'corrupt image'}: {err.problem}"
        )
    problem = image_problem(image)
    if problem:
        return None, SkippedFile(sample.image_path, problem)
    return image, None


def find_pixel_problems(samples) -> list[SkippedFile]:
    """Decode each sample's image and report those that are corrupt, mostly nodata or one flat colour.

    Separate from `read_dataset` so that several processes can each check their share of a large
    dataset and pool the results.
    """
    return [problem for problem in (sample_problem(sample)[1] for sample in samples) if problem is not None]


def _check_pixels(samples: list[Sample]) -> tuple[list[Sample], list[SkippedFile]]:
    bad = find_pixel_problems(samples)
    bad_paths = {item.path for item in bad}
    return [s for s in samples if s.image_path not in bad_paths], bad
