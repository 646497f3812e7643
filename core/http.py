"""All HTTP goes through here: explicit timeouts, retries with backoff, on-disk cache, offline mode."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from core.cache import DiskCache, request_key
from core.config import Settings
from core.errors import OfflineCacheMissError, UpstreamError

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
USER_AGENT = "EcoMapperStudio/0.1 (+https://github.com/ecomapper-studio)"


@dataclass(frozen=True)
class HttpResponse:
    """What the rest of the code needs of an answer: status, body and where it came from."""

    url: str
    status: int
    content: bytes
    from_cache: bool
    cache_key: str = ""

    def json(self, service: str) -> Any:
        try:
            return json.loads(self.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            snippet = self.content[:120].decode("utf-8", "replace")
            raise UpstreamError(
                f"{service} answered {self.url} with something that is not JSON ({snippet!r}).",
                "The service may be down or behind a proxy page; try again later.",
                service=service,
                url=self.url,
                status=self.status,
            ) from err


def build_session(settings: Settings) -> requests.Session:
    """A session whose adapter retries connection errors, 429 and 5xx (POST too) with backoff."""
    retry = Retry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        backoff_factor=settings.backoff_s,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # None = every method: STAC searches are POSTs and safe to repeat
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class HttpClient:
    """JSON and bytes over HTTP with a cache keyed by (method, url, params, body).

    Only successful answers are cached. In offline mode the cache is the only source and a
    miss raises `OfflineCacheMissError` naming what was asked for.
    """

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or build_session(settings)
        self.cache = DiskCache(settings.cache_dir, "http")

    def request(
        self,
        method: str,
        url: str,
        *,
        service: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        use_cache: bool = True,
        store: bool = True,
    ) -> HttpResponse:
        """Send one request (retried by the session) and return its answer.

        Args:
            use_cache: read the cache first and, with `store`, write a fresh answer to it.
            store: write the fresh answer to the cache (callers that validate first pass False).
        """
        method = method.upper()
        key = request_key(method, url, dict(params or {}), json_body)
        if use_cache:
            cached = self.cache.get(key, ".body")
            if cached is not None:
                log.debug("cache hit %s %s", method, url)
                return HttpResponse(url=url, status=200, content=cached, from_cache=True, cache_key=key)
        if self.settings.offline:
            raise OfflineCacheMissError(
                f"Offline mode is on and {service} data for {method} {url} is not in the cache "
                f"({self.settings.cache_dir}).",
                "Unset ECOMAPPER_OFFLINE (and drop --offline) and fetch it once while connected.",
                service=service,
                url=url,
            )
        log.debug("%s %s params=%s", method, url, params)
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=dict(headers or {}),
                timeout=(min(10.0, self.settings.timeout_s), self.settings.timeout_s),
            )
        except requests.exceptions.RequestException as err:
            if not _is_timeout(err):
                raise UpstreamError(
                    f"Could not reach {service} at {url}: {_short_reason(err)}.",
                    "Check the network connection (or set ECOMAPPER_OFFLINE=1 to use cached data).",
                    service=service,
                    url=url,
                ) from err
            raise UpstreamError(
                f"{service} did not answer {url} within {self.settings.timeout_s:g} s "
                f"(after {self.settings.retries} retries).",
                "Try again later, or raise ECOMAPPER_TIMEOUT_S.",
                service=service,
                url=url,
            ) from err
        if response.status_code >= 400:
            body = response.text[:200].strip()
            fix = (
                "The service is busy or failing; wait a minute and try again."
                if response.status_code in RETRY_STATUSES
                else "Check the request values; the service rejected them."
            )
            raise UpstreamError(
                f"{service} answered HTTP {response.status_code} for {method} {url}" + (f": {body}" if body else "."),
                fix,
                service=service,
                url=url,
                status=response.status_code,
            )
        content = response.content
        if use_cache and store:
            self.cache.put(key, content, ".body")
        return HttpResponse(
            url=response.url, status=response.status_code, content=content, from_cache=False, cache_key=key
        )

    def get_json(self, url: str, *, service: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self._json("GET", url, service=service, params=params, **kw)

    def post_json(self, url: str, body: Any, *, service: str, **kw: Any) -> Any:
        return self._json("POST", url, service=service, json_body=body, **kw)

    def _json(
        self,
        method: str,
        url: str,
        *,
        service: str,
        use_cache: bool = True,
        cache_if: Callable[[Any], bool] | None = None,
        **kw: Any,
    ) -> Any:
        """Decoded JSON; `cache_if(data)` False keeps a valid answer out of the cache (e.g. an empty search)."""
        # Cache only bodies that parse, so one malformed answer is not replayed forever.
        response = self.request(method, url, service=service, use_cache=use_cache, store=False, **kw)
        data = response.json(service)
        if use_cache and not response.from_cache and (cache_if is None or cache_if(data)):
            self.cache.put(response.cache_key, response.content, ".body")
        return data


def _is_timeout(err: Exception) -> bool:
    """True for a timeout, also when urllib3's retries wrapped it in a connection error."""
    if isinstance(err, requests.exceptions.Timeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(reason, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError))


def _short_reason(err: Exception) -> str:
    text = str(err)
    return text if len(text) < 160 else text[:157] + "..."
