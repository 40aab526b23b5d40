"""The extender's settings: one frozen `Settings` built from defaults, a YAML file, env vars and flags.

    values.py    text to value: durations, sizes, selectors, URLs, files; each error a reason only
    settings.py  the one table of settings (`Settings`, its fields' specs: flag, env var, YAML key, default, help)
    loading.py   precedence (defaults < YAML < env < flags), the rules between settings, ConfigError

Rising precedence: defaults < YAML file (`--config` / `SCHEDULER_EXTENDER_CONFIG`) < env vars < flags.
Errors name the setting the way it was given.
"""
from __future__ import annotations

from .loading import ConfigError, add_arguments, settings_from_args
from .settings import ACCESS_MODES, ENV_PREFIX, SPECS, Settings, Spec

__all__ = ["ACCESS_MODES", "ENV_PREFIX", "SPECS", "ConfigError", "Settings", "Spec", "add_arguments",
           "settings_from_args"]
