"""HTTP for the Alluxio 3 source: one JSON request with retries, timed and counted like every Alluxio call."""
from __future__ import annotations

import time
from typing import Any

import orjson
import urllib3

from ..metrics import SourceMetrics
from .base import SourceError
from .transport import transport_failure

_BACKOFF = (0.05, 1.0)
"""Seconds before the first retry, doubled each time up to the second figure."""


class JsonHttp:
    """Connection errors, timeouts and 5xx are retried; a 4xx or an answer that is not JSON is not, since asking
    again would not change it. Each attempt is one `alluxio_seconds` observation under `operation`, each failure
    one `alluxio_errors`. Safe to use from several threads."""

    def __init__(self, *, timeout: float, retries: int, metrics: SourceMetrics) -> None:
        self.timeout = timeout
        self._retries = max(0, retries)
        self._metrics = metrics
        self._pool = urllib3.PoolManager(maxsize=8, retries=False, timeout=urllib3.Timeout(total=timeout))

    def request(self, operation: str, method: str, url: str, body: Any = None) -> Any:
        """The decoded JSON answer. Raises SourceError once the retries are spent."""
        data = None if body is None else orjson.dumps(body)
        attempt = 0
        while True:
            attempt += 1
            status, problem, answer = self._once(operation, method, url, data)
            if problem is None:
                return answer
            if (status is not None and status < 500) or attempt > self._retries:
                raise SourceError(f"Alluxio {operation} {method} {url} failed after {attempt} attempt(s): {problem}")
            time.sleep(min(_BACKOFF[0] * 2 ** (attempt - 1), _BACKOFF[1]))

    def _once(self, operation: str, method: str, url: str, data: bytes | None) -> tuple[int | None, str | None, Any]:
        """(HTTP status or None, what went wrong or None, the decoded answer)."""
        start = time.perf_counter()
        try:
            response = self._pool.request(method, url, body=data, headers={"Content-Type": "application/json"})
        except urllib3.exceptions.HTTPError as err:
            reason, problem = transport_failure(err)
            self._metrics.alluxio_errors.labels(operation, reason).inc()
            return None, problem, None
        finally:
            self._metrics.alluxio_seconds.labels(operation).observe(time.perf_counter() - start)
        if response.status != 200:
            self._metrics.alluxio_errors.labels(operation, f"http_{response.status}").inc()
            return response.status, f"HTTP {response.status}: {response.data[:200]!r}", None
        try:
            return 200, None, orjson.loads(response.data)
        except orjson.JSONDecodeError as err:
            self._metrics.alluxio_errors.labels(operation, "bad_response").inc()
            return 400, f"not JSON ({err}): {response.data[:200]!r}", None

    def bad(self, operation: str, url: str, what: str) -> SourceError:
        """Counts an answer that is JSON but not what the wire format says, and says what it was."""
        self._metrics.alluxio_errors.labels(operation, "bad_response").inc()
        return SourceError(f"Alluxio {operation} {url} answered {what}")
