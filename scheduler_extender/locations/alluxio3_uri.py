"""The key Alluxio 3 hashes for a path: the UFS path its client makes of it, normalised as `AlluxioURI` does. Pure.

A 3.x client maps an Alluxio path to a UFS path with `DoraCacheFileSystem.convertToUfsPath`, i.e.
`PathUtils.convertAlluxioPathToUfsPath(new AlluxioURI(path), new AlluxioURI(alluxio.dora.client.ufs.root))`, and
hashes that URI's `toString()` (313: alluxio/util/io/PathUtils.java, alluxio/AlluxioURI.java, alluxio/uri/*.java).
The paths it normalises, all mirrored here and checked against the 313 jars by tests/alluxio3:

- backslashes become slashes, runs of slashes one slash (`/a//b` -> `/a/b`), trailing slashes are dropped
  (`/a/b/` -> `/a/b`; a Windows drive keeps its `C:/`);
- `.` and `..` segments are resolved as `java.net.URI.normalize` does *after* the path is joined to the UFS
  root, so `..` can climb out of the root (`/../x` under `s3://b/root` -> `s3://b/x`), a `..` above `/` stays,
  and a resolved last segment leaves a trailing slash (`/a/.` -> `/a/`);
- everything from the first `?` is a query, kept verbatim and never normalised (`/a?b//c` keeps `b//c`);
- a path that already is a URI under the UFS root (same scheme and authority) is used as it is;
- master authorities are rewritten (`host:0080` -> `host:80`, `;` and `+` between masters -> `,`), and an
  authority with `[` or `]` not around an IPv6 address is refused (java.net.URI's rule).
Everything else (spaces, `%`, `#`, non-ASCII) passes through unchanged.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_ZOOKEEPER = re.compile(r"zk@([^:,;+]+:[0-9]+(?:[,;+][^:,;+]+:[0-9]+)*)")
_SINGLE_MASTER = re.compile(r"([^:,;]+):([0-9]+)")
_MULTI_MASTERS = re.compile(r"[^:,;+]+:[0-9]+(?:[,;+][^:,;+]+:[0-9]+)+")
_SEPARATORS = re.compile(r"[;+]")
_IPV6_SERVER = re.compile(r"(?:[^@\[\]]*@)?\[([^\[\]]*)\](?::[0-9]*)?")
_JAVA_INT_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class AlluxioUri:
    """`AlluxioURI` after parsing: scheme ('' for none), authority ('' for none), path, query (None for none)."""

    scheme: str
    authority: str
    path: str
    query: str | None

    def __str__(self) -> str:
        path = self.path
        if not self.scheme and not self.authority and _windows_drive(path, slashed=True):
            path = path[1:]
        return "".join((f"{self.scheme}://" if self.scheme else "",
                        ("//" if not self.scheme else "") + self.authority if self.authority else "",
                        path, "" if self.query is None else "?" + self.query))


def ufs_key(path: str, ufs_root: str) -> str:
    """The string a 3.x client hashes to pick the worker for `path` (an Alluxio path, or a URI under the root).
    Raises ValueError where Alluxio refuses the path."""
    uri, root = parse(path), parse(ufs_root)
    if _is_ancestor(root, uri):
        return str(uri)
    joined = _concat(str(root), str(uri))
    if uri.path == "/" or (not uri.path and uri.authority):
        joined += "/"
    return str(parse(joined))


def parse(text: str) -> AlluxioUri:
    """`new AlluxioURI(text)` (URI.Factory.create, then StandardURI). Raises ValueError where Java throws."""
    if _windows_drive(text, slashed=False):
        text = "/" + text
    scheme, start = "", 0
    colon, slash = text.find(":"), text.find("/")
    if colon != -1 and (slash == -1 or colon < slash):
        if slash != -1:
            start = slash
            while slash > 0 and text[slash - 1] == ":":
                slash -= 1
            scheme = text[:slash]
        else:
            scheme, start = text[:colon], colon + 1
    authority = ""
    if text.startswith("//", start) and len(text) - start > 2:
        end = text.find("/", start + 2)
        end = end if end > 0 else len(text)
        authority, start = _authority(text[start + 2:end]), end
    path, query = text[start:], None
    if "?" in path:
        path, query = path.split("?", 1)
    path = _normalise(path)
    if (scheme or authority) and path and not path.startswith("/"):
        raise ValueError(f"{text!r}: a relative path in an absolute URI")
    return AlluxioUri(scheme, authority, path if path == "." else _remove_dots(path), query)


def _normalise(path: str) -> str:
    """AlluxioURI.normalizePath."""
    path = path.replace("\\", "/")
    while "//" in path:
        path = path.replace("//", "/")
    keep = 4 if _windows_drive(path, slashed=True) else 1
    while len(path) > keep and path.endswith("/"):
        path = path[:-1]
    return path


def _remove_dots(path: str) -> str:
    """java.net.URI.normalize of a path: `.` goes, `x/..` goes unless x is `..`, so a leading `..` stays; a path
    whose last segment went keeps the slash before it."""
    absolute = path.startswith("/")
    kept: list[str] = []
    trailing = False
    for segment in (path[1:] if absolute else path).split("/"):
        if segment == "." or (segment == ".." and kept and kept[-1] != ".."):
            if segment == "..":
                kept.pop()
            trailing = True
            continue
        kept.append(segment)
        trailing = False
    if not absolute and kept and ":" in kept[0]:
        raise ValueError(f"{path!r}: Java reads the start of this relative path as a URI scheme")
    return ("/" if absolute else "") + "/".join(kept) + ("/" if trailing and kept else "")


def _authority(text: str) -> str:
    """Authority.fromString(text).toString(). Raises ValueError where java.net.URI then refuses it: `[` and `]`
    anywhere but around an IPv6 address."""
    if "[" in text or "]" in text:
        bracketed = _IPV6_SERVER.fullmatch(text)
        try:
            ipaddress.IPv6Address(bracketed[1] if bracketed else "")
        except ValueError:
            raise ValueError(f"authority {text!r}: [ and ] belong around an IPv6 address only") from None
    match = _ZOOKEEPER.fullmatch(text)
    if match:
        return "zk@" + _SEPARATORS.sub(",", match[1])
    match = _SINGLE_MASTER.fullmatch(text)
    if match:
        port = int(match[2])
        if port > _JAVA_INT_MAX:
            raise ValueError(f"port of {text!r} is not a Java int")
        return f"{match[1]}:{port}"
    if _MULTI_MASTERS.fullmatch(text):
        return _SEPARATORS.sub(",", text)
    return text


def _is_ancestor(root: AlluxioUri, uri: AlluxioUri) -> bool:
    """AlluxioURI.isAncestorOf: same scheme and authority, and PathUtils.hasPrefix of the paths, each cleaned
    (FilenameUtils.normalizeNoEndSeparator: None where `..` climbs above `/`)."""
    if root.authority != uri.authority or root.scheme != uri.scheme:
        return False
    path, prefix = _clean(uri.path), _clean(root.path)
    if prefix == "/":
        return True
    if path is None or prefix is None:
        raise ValueError(f"{uri} or {root} climbs above /")  # Java: a NullPointerException
    return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")


def _clean(path: str) -> str | None:
    if not path.endswith("/"):
        path += "/"
    if not path.startswith("/"):
        raise ValueError(f"{path!r} is not an absolute path")  # PathUtils.validatePath
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if not kept:
                return None
            kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    return "/" + "/".join(kept)


def _concat(base: str, path: str) -> str:
    """PathUtils.concatPath(base, path): trailing slashes off the base, slashes off both ends of the path."""
    joined = base.rstrip("/") + ("/" + path.strip("/") if path.strip("/") else "")
    return joined or "/"


def _windows_drive(path: str, *, slashed: bool) -> bool:
    start = 1 if slashed else 0
    return (len(path) >= start + 2 and (not slashed or path[0] == "/") and path[start + 1] == ":"
            and ("A" <= path[start] <= "Z" or "a" <= path[start] <= "z"))
