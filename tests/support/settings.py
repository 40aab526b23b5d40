"""Settings as `scheduler-extender serve` reads them, for tests and benchmarks: flags and an environment in,
Settings or a ConfigError out, where the command would print the error and exit 2."""
from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import NoReturn

from scheduler_extender.config import ConfigError, Settings, add_arguments, settings_from_args


def load_settings(argv: Sequence[str], env: Mapping[str, str]) -> Settings:
    """Settings from `serve`'s flags (without the subcommand) and `env`; raises ConfigError."""
    parser = RaisingParser(prog="scheduler-extender serve", allow_abbrev=False)
    add_arguments(parser)
    return settings_from_args(parser.parse_args(list(argv)), env)


class RaisingParser(argparse.ArgumentParser):
    """Turns argparse's usage errors (unknown flag, missing value) into ConfigError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)
