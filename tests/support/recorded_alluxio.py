"""Answers a real Alluxio 2.9.6 gave (tests/data/alluxio, recorded by tests/alluxio/recording.py), and the
JSON shape that lets the fake Alluxio and the live cluster be held to them."""
from __future__ import annotations

from typing import Any

import orjson

from .paths import DATA

RECORDED = DATA / "alluxio"

OPAQUE = frozenset({"configuration", "metrics"})
"""Maps of every property and metric: recorded empty, compared as maps only."""
MAPS = frozenset({"mountPoints", "tierCapacity", "capacityBytesOnTiers", "usedBytesOnTiers", "xattr", "properties"})
"""Objects keyed by data (paths, tier names, attribute names): their keys are not part of the shape."""


def recorded(name: str) -> bytes:
    """The body of one recorded answer, byte for byte."""
    return (RECORDED / name).read_bytes()


def recorded_json(name: str) -> Any:
    return orjson.loads(recorded(name))


def shape(doc: Any, at: str = "$") -> set[str]:
    """Every `path:type` in a JSON document, list items merged under `[]` and data-keyed maps under `*`, so two
    answers have the same shape when they have the same fields of the same types, whatever their values."""
    if isinstance(doc, dict):
        found = {f"{at}:object"}
        for key, value in doc.items():
            if key in OPAQUE or (key in MAPS and isinstance(value, dict)):
                found.add(f"{at}.{key}:map")
                if key in MAPS:
                    for item in value.values():
                        found |= shape(item, f"{at}.{key}.*")
            else:
                found |= shape(value, f"{at}.{key}")
        return found
    if isinstance(doc, list):
        return {f"{at}:list"}.union(*(shape(item, f"{at}[]") for item in doc))
    return {f"{at}:{_TYPES[type(doc)]}"}


_TYPES = {type(None): "null", bool: "bool", int: "number", float: "number", str: "string"}
