"""All HTTP goes through here: explicit timeouts, retries with backoff, on-disk cache, offline mode."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from core.config import Settings
from core.errors import OfflineCacheMissError, UpstreamError
from core.io.cache import DiskCache, request_key

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
# A host whose name did not resolve fails at once for this long (process-wide): offline, every source
# costs one look-up, not one per request.
UNRESOLVED_HOST_MEMORY_S = 60.0
_UNRESOLVED_HOSTS: dict[str, float] = {}
USER_AGENT = "EcoMapperStudio/0.1 (+https://github.com/ecomapper-studio)"


@dataclass(frozen=True)
class HttpResponse:
    """What the rest of the code needs of an answer: status, body and where it came from."""

    url: str
    status: int
    content: bytes
    from_cache: bool
    cache_key: str = ""
    # > 0 when a stale cached answer was served because the service failed
    stale_age_s: float = 0.0

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


class _RetryButNotUnresolvedNames(Retry):
    """urllib3's retries, except for a host name that did not resolve: with no network or DNS, retrying
    only waits (and logs a warning per attempt)."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if _is_unresolved_name(error):
            raise urllib3.exceptions.MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def build_session(settings: Settings) -> requests.Session:
    """A session whose adapter retries connection errors, 429 and 5xx (POST too) with backoff;
    a host name that does not resolve fails at once."""
    retry = _RetryButNotUnresolvedNames(
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
        max_age_s: float | None = None,
    ) -> HttpResponse:
        """Send one request (retried by the session) and return its answer.

        Args:
            use_cache: read the cache first and, with `store`, write a fresh answer to it.
            store: write the fresh answer to the cache (callers that validate first pass False).
            max_age_s: a cached answer older than this is fetched again (None: cached answers never
                expire); when that fetch fails, the old answer is served with a warning saying its age.
        """
        method = method.upper()
        key = request_key(method, url, dict(params or {}), json_body)
        stale: bytes | None = None
        stale_age_s = 0.0
        if use_cache:
            cached = self.cache.get(key, ".body")
            if cached is not None:
                age_s = self.cache.age_s(key, ".body") or 0.0
                if self.settings.offline or max_age_s is None or age_s <= max_age_s:
                    log.debug("cache hit %s %s", method, url)
                    return HttpResponse(url=url, status=200, content=cached, from_cache=True, cache_key=key)
                stale, stale_age_s = cached, age_s
        if self.settings.offline:
            raise OfflineCacheMissError(
                f"Offline mode is on and {service} data for {method} {url} is not in the cache "
                f"({self.settings.cache_dir}).",
                "Unset ECOMAPPER_OFFLINE (and drop --offline) and fetch it once while connected.",
                service=service,
                url=url,
            )
        try:
            final_url, status, content = self._send(method, url, service, params, json_body, headers)
        except UpstreamError as err:
            if stale is None:
                raise
            # The service failed but we hold an older answer: better an old answer, said to be old.
            log.warning(
                "%s failed (%s); using the cached answer from %s ago for %s %s",
                service,
                err.problem,
                describe_age(stale_age_s),
                method,
                url,
            )
            return HttpResponse(
                url=url, status=200, content=stale, from_cache=True, cache_key=key, stale_age_s=stale_age_s
            )
        if use_cache and store:
            self.cache.put(key, content, ".body")
        return HttpResponse(url=final_url, status=status, content=content, from_cache=False, cache_key=key)

    def _send(
        self,
        method: str,
        url: str,
        service: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> tuple[str, int, bytes]:
        """(final url, status, body) of a successful answer; UpstreamError for every failure."""
        log.debug("%s %s params=%s", method, url, params)
        host = urllib.parse.urlsplit(url).hostname or ""
        failed_at = _UNRESOLVED_HOSTS.get(host)
        if failed_at is not None and time.monotonic() - failed_at < UNRESOLVED_HOST_MEMORY_S:
            # one failed name look-up per host and minute: later requests fail at once, without a new wait
            raise UpstreamError(
                f"Could not reach {service}: the host name {host!r} did not resolve a moment ago (no network or DNS).",
                "Check the network connection (or set ECOMAPPER_OFFLINE=1 to use cached data).",
                service=service,
                url=url,
            )
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
            unresolved = _unresolved_name(err)
            if unresolved is not None:
                name = getattr(unresolved, "_host", None) or host  # a proxy's name, when it is the proxy's
                _UNRESOLVED_HOSTS[host] = time.monotonic()
                raise UpstreamError(
                    f"Could not reach {service}: the host name {name!r} does not resolve (no network or DNS).",
                    "Check the network connection (or set ECOMAPPER_OFFLINE=1 to use cached data).",
                    service=service,
                    url=url,
                ) from err
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
        return response.url, response.status_code, response.content

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
        try:
            data = response.json(service)
        except UpstreamError:
            if not response.from_cache:
                raise
            # A cached body that does not parse (torn by a disk or an older version): heal it by
            # fetching again rather than blaming the service on every run.
            self.cache.discard(response.cache_key, ".body", "not valid JSON")
            response = self.request(method, url, service=service, use_cache=use_cache, store=False, **kw)
            data = response.json(service)
        if use_cache and not response.from_cache and (cache_if is None or cache_if(data)):
            self.cache.put(response.cache_key, response.content, ".body")
        return data


def describe_age(age_s: float) -> str:
    """A cache entry's age in words ("3 h", "2 days")."""
    if age_s < 120:
        return f"{age_s:.0f} s"
    if age_s < 2 * 3600:
        return f"{age_s / 60:.0f} min"
    if age_s < 2 * 86400:
        return f"{age_s / 3600:.0f} h"
    return f"{age_s / 86400:.0f} days"


def _unresolved_name(err: object, depth: int = 0) -> urllib3.exceptions.NameResolutionError | None:
    """The name-resolution failure inside `err` (however requests / urllib3 wrapped it), or None."""
    if isinstance(err, urllib3.exceptions.NameResolutionError):
        return err
    if depth > 4 or not isinstance(err, BaseException):
        return None
    for inner in (getattr(err, "reason", None), *err.args):
        found = _unresolved_name(inner, depth + 1)
        if found is not None:
            return found
    return None


def _is_unresolved_name(err: object) -> bool:
    return _unresolved_name(err) is not None


def _is_timeout(err: Exception) -> bool:
    """True for a timeout, also when urllib3's retries wrapped it in a connection error.

    A name that did not resolve is not a timeout (urllib3 makes it a kind of ConnectTimeoutError).
    """
    if isinstance(err, requests.exceptions.Timeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    if isinstance(reason, urllib3.exceptions.NewConnectionError):  # refused or unresolved: an answer, not a wait
        return False
    return isinstance(reason, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError))


def _short_reason(err: Exception) -> str:
    text = str(err)
    return text if len(text) < 160 else text[:157] + "..."
