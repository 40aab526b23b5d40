"""The location source the settings ask for: one place to add a source (and the settings that pick it)."""
from __future__ import annotations

from ..config import Settings
from ..metrics import SourceMetrics
from . import alluxio3
from .alluxio_rest import AlluxioRestSource
from .base import LocationSource
from .snapshot import SnapshotSource


def uses_alluxio3(settings: Settings) -> bool:
    """One of the three Alluxio 3 membership settings makes the source Alluxio 3 (config checks it is one)."""
    return bool(settings.alluxio3_etcd or settings.alluxio3_static_workers or settings.alluxio3_master)


def source_from_settings(settings: Settings, metrics: SourceMetrics) -> LocationSource:
    """Raises SourceError if a file the source reads (a snapshot, an Alluxio 3 worker or listing file) cannot
    be read. Opens no connection and starts no thread: the sync process calls the source's `start`."""
    if settings.locations_file:
        return SnapshotSource(settings.locations_file, metrics=metrics)
    if uses_alluxio3(settings):
        return alluxio3.open_source(settings, metrics)
    assert settings.alluxio_proxy, "config requires one of --alluxio-proxy, --locations-file and Alluxio 3"
    return AlluxioRestSource(settings.alluxio_proxy, timeout=settings.alluxio_timeout,
                             retries=settings.alluxio_retries, metrics=metrics)


def check_source_files(settings: Settings) -> None:
    """Read the files the sync process's source will read, the way it will, so a corrupt one stops the command
    at start (before gunicorn forks) instead of a sync process that cannot start. Raises SourceError."""
    if settings.locations_file:
        SnapshotSource(settings.locations_file)
    elif uses_alluxio3(settings):
        alluxio3.check_files(settings)
