"""The location source the settings ask for: one place to add a source (and the settings that pick it)."""
from __future__ import annotations

from ..config import Settings
from ..metrics import SourceMetrics
from .alluxio_rest import AlluxioRestSource
from .base import LocationSource
from .snapshot import SnapshotSource


def source_from_settings(settings: Settings, metrics: SourceMetrics) -> LocationSource:
    """Raises SourceError if a snapshot cannot be read. Opens no connection."""
    if settings.locations_file:
        return SnapshotSource(settings.locations_file, metrics=metrics)
    assert settings.alluxio_proxy, "config requires one of --alluxio-proxy and --locations-file"
    return AlluxioRestSource(settings.alluxio_proxy, settings.alluxio_master, timeout=settings.alluxio_timeout,
                             retries=settings.alluxio_retries, metrics=metrics)
