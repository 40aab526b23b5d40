"""LocationSource over Alluxio 2.x REST: the proxy's paths API, for block locations and for readiness.

Wire format (Alluxio 2.9):
- `POST {proxy}/api/v1/paths/{path}/list-status` with `Content-Type: application/json` and a ListStatusPOptions
  body such as `{"recursive": true}`. `{path}` is the absolute Alluxio path, so the URL has a double slash
  (`/api/v1/paths//data/x/list-status`); Jersey percent-decodes it. A file path lists that one file.
- The answer is a JSON list of URIStatus; an error is HTTP 500 with `{"statusCode": "NOT_FOUND", "message": ...}`
  (the gRPC status name), which is how a missing path is reported.
- `POST {proxy}/api/v1/paths//get-status` answers the URIStatus of `/`: what proves the proxy, and the primary
  master behind it, answer. The master is never asked itself: with several (HA) only the primary serves its web
  port (a 2.9.6 standby takes each connection and closes it unanswered), and the proxy finds the primary
  from its own configuration (alluxio.master.rpc.addresses) as every Alluxio client does.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import orjson
import urllib3

from ..metrics import SourceMetrics
from ..urls import base_url
from .base import PathLocations, SourceError
from .transport import transport_failure
from .uri_status import aggregate, array_elements

_JSON = {"Content-Type": "application/json", "Accept": "application/json"}
_LIST_RECURSIVE = orjson.dumps({"recursive": True})
_BACKOFF_FIRST = 0.05
"""Seconds before the first retry; doubled before each further one, up to _BACKOFF_MAX."""
_BACKOFF_MAX = 1.0


class AlluxioRestSource:
    """Asks the Alluxio proxy where the blocks beneath a path are cached. Safe to call from several threads.

    Each HTTP request is one observation of `alluxio_seconds` and each failed one one `alluxio_errors`, so a call
    that succeeds on its second attempt shows one error. Connection errors, timeouts and 5xx are retried with a
    short exponential backoff; 4xx and unreadable answers are not, because asking again would not change them.
    """

    def __init__(self, proxy_url: str, *, timeout: float, retries: int, metrics: SourceMetrics) -> None:
        self._proxy = _base_url(proxy_url, "proxy")
        self._retries = max(0, retries)
        self._metrics = metrics
        # Our own retry loop decides what is retried, so urllib3 must not retry or follow redirects itself.
        self._http = urllib3.PoolManager(maxsize=8, retries=False, timeout=urllib3.Timeout(total=timeout))

    def fetch(self, path: str) -> PathLocations:
        """Cached bytes beneath `path` by worker set; an empty PathLocations if Alluxio says it does not exist."""
        url = self._paths_url(path, "list-status")
        data = self._call("list_status", "POST", url, _LIST_RECURSIVE, missing_ok=True, raw=True)
        if data is None:
            return PathLocations()
        if data.lstrip()[:1] != b"[":
            answer = self._decode("list_status", url, data)
            raise self._bad("list_status", url, f"a JSON {type(answer).__name__} instead of a list of statuses")
        head = data[:200]
        try:
            text = data.decode("utf-8")
            del data  # a 10,000-file listing is over 100 MB: hold it once, as text, while it is read
            return aggregate(array_elements(text))
        except SourceError as err:
            raise self._bad("list_status", url, str(err)) from None
        except (ValueError, RecursionError) as err:  # bad JSON, bad UTF-8, nested too deep
            raise self._bad("list_status", url, f"invalid JSON ({err}): {head!r}") from None

    def probe(self) -> None:
        """Proves what serves the locations answers: the proxy's status of `/`, which it asks the primary master."""
        url = self._paths_url("/", "get-status")
        if not isinstance(self._call("get_status", "POST", url, b"{}"), dict):
            raise self._bad("get_status", url, "something other than a status object")

    def start(self) -> None:
        """Nothing runs beside the calls."""

    def _paths_url(self, path: str, action: str) -> str:
        # Absolute path after "paths/" gives the double slash Alluxio's own clients send; every other character
        # that means something in a URL (space % # ? ; + and non-ASCII) is percent-encoded as UTF-8.
        return f"{self._proxy}/api/v1/paths/{quote(path, safe='/')}/{action}"

    def _call(self, operation: str, method: str, url: str, body: bytes | None = None, *,
              missing_ok: bool = False, raw: bool = False) -> Any:
        """The decoded JSON answer (its bytes if `raw`), retried as the class says; None if `missing_ok` and
        the path does not exist."""
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                response = self._http.request(method, url, body=body, headers=_JSON)
            except urllib3.exceptions.HTTPError as err:
                response, (reason, problem) = None, transport_failure(err)
            finally:
                self._metrics.alluxio_seconds.labels(operation).observe(time.perf_counter() - start)
            if response is not None:
                if response.status == 200:
                    return response.data if raw else self._decode(operation, url, response.data)
                code, message = _alluxio_error(response.data)
                if missing_ok and response.status == 500 and code == "NOT_FOUND":
                    return None
                reason = f"http_{response.status}"
                problem = f"HTTP {response.status} " + (f"{code}: {message}" if code else repr(response.data[:200]))
            self._metrics.alluxio_errors.labels(operation, reason).inc()
            attempt += 1
            if (response is not None and response.status < 500) or attempt > self._retries:
                raise SourceError(f"Alluxio {operation} {method} {url} failed after {attempt} attempt(s): {problem}")
            time.sleep(min(_BACKOFF_FIRST * 2 ** (attempt - 1), _BACKOFF_MAX))

    def _decode(self, operation: str, url: str, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except ValueError as err:  # orjson.JSONDecodeError: bad JSON, bad UTF-8, too deep
            raise self._bad(operation, url, f"invalid JSON ({err}): {data[:200]!r}") from None

    def _bad(self, operation: str, url: str, what: str) -> SourceError:
        """Counts an answer we cannot read and says what it was."""
        self._metrics.alluxio_errors.labels(operation, "bad_response").inc()
        return SourceError(f"Alluxio {operation} {url} answered {what}")


def _base_url(url: str, what: str) -> str:
    """The URL without a trailing slash (urls.base_url); a URL that is not http(s)://host is a configuration error,
    said now."""
    try:
        return base_url(url)
    except ValueError as error:
        raise ValueError(f"Alluxio {what} URL {url!r} {error}") from None


def _alluxio_error(data: bytes) -> tuple[str | None, str | None]:
    """(statusCode, message) of an Alluxio REST error body, or (None, None) if the body is not one."""
    try:
        body = orjson.loads(data)
    except ValueError:
        return None, None
    if not isinstance(body, dict) or not isinstance(body.get("statusCode"), str):
        return None, None
    return body["statusCode"], str(body.get("message"))
