"""Figures the suites measure on the way (times, placement quality, fault recovery), printed by the root
conftest after the run, one section each, so they show in every CI log and not only when a test fails."""
from __future__ import annotations

SECTIONS: dict[str, list[str]] = {}


def report(section: str, line: str) -> None:
    SECTIONS.setdefault(section, []).append(line)
