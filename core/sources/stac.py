"""STAC item search with POST paging, and Planetary Computer SAS signing, all through our HttpClient.

Why not pystac-client here: its paging is right (0.9's `StacApiIO.get_pages` follows POST `next`
links and stops on an empty page), but `Client.open` first GETs the landing page and requires its
conformance classes, and `StacApiIO` sends through its own requests session. Going through
`HttpClient` keeps one retry/timeout policy, the on-disk cache keyed by the request body and the
offline mode for every search, and works with endpoints that serve only `/search` (as our replay
servers and some mirrors do). The paging itself is small: follow `next` links (POST with a `body`
and `merge`, or GET), stop on a page without features (Earth Search offers a `next` link after the
last non-empty page) and keep only the collection asked for (results can mix collections).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from core.config import Settings
from core.errors import UpstreamError
from core.geo import Month
from core.io.cache import DiskCache, request_key
from core.io.http import HttpClient

log = logging.getLogger(__name__)

MAX_PAGES = 20
# Renew a SAS token this long before it expires so a slow COG read does not outlive it.
TOKEN_MARGIN_S = 300.0


def _has_features(page: Any) -> bool:
    return isinstance(page, Mapping) and bool(page.get("features"))


def search_items(
    client: HttpClient,
    url: str,
    body: Mapping[str, Any],
    *,
    service: str,
    collection: str | None = None,
    max_pages: int = MAX_PAGES,
    max_age_s: float | None = None,
) -> list[dict]:
    """POST a STAC `/search` and follow `next` links; return the items of `collection`.

    Args:
        client: the HTTP client (retries, cache, offline mode).
        url: the search endpoint (`.../search`).
        body: the search body (collections, bbox or intersects, datetime, limit ...).
        service: name for error messages.
        collection: keep only items of this collection (None keeps all).
        max_pages: stop after this many pages.
        max_age_s: cached pages older than this are fetched again (a month that is not over yet).
    """
    items: list[dict] = []
    seen: set[str] = set()
    method, next_url, next_body = "POST", url, dict(body)
    for page_number in range(1, max_pages + 1):
        # An empty page is not cached: a flaky answer or a scene not yet ingested must not stick.
        if method == "POST":
            page = client.post_json(next_url, next_body, service=service, cache_if=_has_features, max_age_s=max_age_s)
        else:
            page = client.get_json(next_url, service=service, cache_if=_has_features, max_age_s=max_age_s)
        if not isinstance(page, Mapping) or not isinstance(page.get("features"), list):
            raise UpstreamError(
                f"{service} answered {next_url} with something that is not a STAC FeatureCollection.",
                "The endpoint may not be a STAC API search; check the URL setting.",
                service=service,
                url=next_url,
            )
        features = page["features"]
        log.debug("%s page %d: %d features", service, page_number, len(features))
        if not features:
            break
        for feature in features:
            key = f"{feature.get('collection')}/{feature.get('id')}"
            if key in seen:
                continue
            seen.add(key)
            if collection is None or feature.get("collection") == collection:
                items.append(feature)
        link = next((link for link in page.get("links", []) if link.get("rel") == "next"), None)
        if link is None:
            break
        method = str(link.get("method", "GET")).upper()
        next_url = link["href"]
        if method == "POST":
            link_body = link.get("body") or {}
            next_body = {**next_body, **link_body} if link.get("merge") else dict(link_body)
    else:
        log.warning("%s: stopped after %d pages", service, max_pages)
    return items


def search_bbox_parts(
    client: HttpClient,
    url: str,
    bbox_parts: Iterable[tuple[float, float, float, float]],
    base_body: Mapping[str, Any],
    *,
    service: str,
    collection: str,
    max_age_s: float | None = None,
) -> list[dict]:
    """One search per bbox part (two across the antimeridian), items merged by id."""
    merged: dict[str, dict] = {}
    for part in bbox_parts:
        body = {**base_body, "bbox": [round(v, 6) for v in part]}
        for item in search_items(client, url, body, service=service, collection=collection, max_age_s=max_age_s):
            merged.setdefault(item["id"], item)
    return list(merged.values())


def month_interval(month: Month) -> str:
    """The STAC datetime interval of a calendar month (UTC, both ends inclusive)."""
    return f"{month.first_day.isoformat()}T00:00:00Z/{month.last_day.isoformat()}T23:59:59Z"


class PlanetaryComputerSigner:
    """Appends Planetary Computer SAS tokens (from its token API) to asset hrefs.

    Tokens are per collection, cached in memory and on disk until shortly before they expire.
    """

    SERVICE = "Planetary Computer token API"

    def __init__(self, settings: Settings, client: HttpClient) -> None:
        self.settings = settings
        self.client = client
        self.cache = DiskCache(settings.cache_dir, "pc-tokens")
        self._tokens: dict[str, tuple[str, float]] = {}

    def token(self, collection: str) -> str:
        now = time.time()
        held = self._tokens.get(collection)
        if held and held[1] - TOKEN_MARGIN_S > now:
            return held[0]
        key = request_key("pc-token", self.settings.pc_sas_url, collection)
        stored = self.cache.get_json(key)
        if stored and stored.get("expires_at", 0) - TOKEN_MARGIN_S > now:
            self._tokens[collection] = (stored["token"], stored["expires_at"])
            return stored["token"]
        url = f"{self.settings.pc_sas_url}/{collection}"
        # Tokens expire: never answer from the generic HTTP cache.
        answer = self.client.get_json(url, service=self.SERVICE, use_cache=False)
        try:
            token = str(answer["token"])
            expires_at = datetime.fromisoformat(str(answer["msft:expiry"]).replace("Z", "+00:00")).timestamp()
        except (KeyError, TypeError, ValueError) as err:
            raise UpstreamError(
                f"{self.SERVICE} answered {url} without a usable token ({json.dumps(answer)[:120]}).",
                "Try again later.",
                service=self.SERVICE,
                url=url,
            ) from err
        self._tokens[collection] = (token, expires_at)
        self.cache.put_json(key, {"token": token, "expires_at": expires_at})
        return token

    def sign(self, href: str, collection: str) -> str:
        """`href` with the collection's SAS token as its query (idempotent)."""
        if "sig=" in urlsplit(href).query:
            return href
        token = self.token(collection)
        return f"{href}{'&' if '?' in href else '?'}{token}"
