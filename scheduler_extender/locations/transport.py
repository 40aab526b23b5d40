"""What an HTTP request to Alluxio (or etcd) that failed below HTTP was: the reason its metrics count it under, and
the words its error gives. The 2.x and 3.x sources' one reading of urllib3's errors."""
from __future__ import annotations

import urllib3


def transport_failure(err: urllib3.exceptions.HTTPError) -> tuple[str, str]:
    """(metric reason, what happened). NewConnectionError subclasses the timeout error: it is a connection one."""
    if isinstance(err, urllib3.exceptions.NewConnectionError):
        return "connection", f"cannot connect ({err})"
    if isinstance(err, urllib3.exceptions.TimeoutError):
        return "timeout", f"timed out ({err})"
    return "connection", f"{type(err).__name__}: {err}"
