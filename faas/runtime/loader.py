"""Finds the function's entries by their "module.attribute" names, as FaaS platforms do."""

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runtime.config import Config


class EntryError(Exception):
    """An entry cannot be loaded; the message names the setting and the entry."""


@dataclass(frozen=True)
class Entries:
    handler: Callable[..., Any]
    initializer: Callable[[Any], Any] | None
    pre_stop: Callable[[Any], Any] | None


def load_entries(config: Config) -> Entries:
    """The handler, initializer and pre_stop that config names, loaded from config.code_dir."""
    # First on the path, so the function's `index` wins over any other module of that name.
    if config.code_dir not in sys.path:
        sys.path.insert(0, config.code_dir)
    handler = load_entry("FC_HANDLER", config.handler)
    initializer = load_entry("FC_INITIALIZER", config.initializer) if config.initializer else None
    pre_stop = None
    if config.pre_stop:
        try:
            pre_stop = load_entry("FC_PRE_STOP", config.pre_stop)
        except EntryError:
            if not config.pre_stop_optional:
                raise
    return Entries(handler=handler, initializer=initializer, pre_stop=pre_stop)


def load_entry(setting: str, name: str) -> Callable[..., Any]:
    module_name, _, attribute = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        # Not only ImportError: a function module that fails while importing is just as missing.
        raise EntryError(
            f"cannot load {setting} {name!r}: importing {module_name!r} failed: "
            f"{type(error).__name__}: {error}"
        ) from error
    entry = getattr(module, attribute, None)
    if not callable(entry):
        raise EntryError(
            f"cannot load {setting} {name!r}: module {module_name!r} "
            f"({getattr(module, '__file__', '?')}) has no callable {attribute!r}"
        )
    return entry
