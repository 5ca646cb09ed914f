"""The runtime's settings, read once from the environment, typed, failing by name."""

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ENTRY_NAME = re.compile(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*")


class ConfigError(ValueError):
    """A setting has a value the runtime cannot use; the message names the variable."""


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 9000
    metrics_port: int = 9100
    code_dir: str = "."
    function_name: str = "todo-faas"
    handler: str = "index.handler"
    initializer: str = "index.initializer"  # "" = no initializer
    pre_stop: str = "index.pre_stop"  # "" = no pre_stop
    pre_stop_optional: bool = True  # the default pre_stop may be absent; a named one may not
    initialization_timeout: float = 30.0
    pre_stop_timeout: float = 5.0
    timeout: float = 60.0
    memory_size: int = 512
    # The FC rule: ceil(in-flight requests / instance_concurrency) instances, within min and max.
    min_instances: int = 1  # 0 = scale to zero
    max_instances: int = 4
    instance_concurrency: int = 8
    idle_seconds: float = 60.0  # an instance that served nothing this long is released
    # Requests that may wait for a thread once every instance is up and busy; then 429. About
    # what the accept queue held before there were instances to start: ordinary bursts wait.
    max_queued_requests: int = 256
    prewarm: bool = True  # fork instances from a platform that imported the function once
    drain_seconds: float = 2.0  # after SIGTERM, serve this long with /readyz at 503
    request_head_timeout: float = 10.0  # a request head must be in within this
    request_body_timeout: float = 10.0  # and its body within this after it
    response_send_timeout: float = 30.0  # a thread gives up sending to a client that stops reading
    # GETs answered from a copy the handler renders once per instance (runtime/prerender.py).
    prerendered_paths: tuple[str, ...] = ("/.well-known/jwks.json",)

    def __post_init__(self) -> None:
        if self.min_instances > self.max_instances:
            raise ConfigError(
                f"FC_MIN_INSTANCES={self.min_instances} is over "
                f"FC_MAX_INSTANCES={self.max_instances}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        if environ.get("FC_INSTANCES"):
            raise ConfigError(
                "FC_INSTANCES is gone: instances start on demand between FC_MIN_INSTANCES and "
                "FC_MAX_INSTANCES"
            )

        def read(name: str, parse: Callable[[str], Any], default: Any, empty: Any = None) -> Any:
            raw = environ.get(name, "").strip()
            if not raw:
                # An empty FC_INITIALIZER or FC_PRE_STOP is a choice ("none"), not a default.
                return default if empty is None or name not in environ else empty
            try:
                return parse(raw)
            except ValueError as error:
                raise ConfigError(f"{name}={raw!r}: {error}") from None

        return cls(
            host=read("HOST", str, cls.host),
            port=read("PORT", _port, cls.port),
            metrics_port=read("METRICS_PORT", _port, cls.metrics_port),
            code_dir=os.path.abspath(read("FC_CODE_DIR", str, os.getcwd())),
            function_name=read("FC_FUNCTION_NAME", str, cls.function_name),
            handler=read("FC_HANDLER", _entry, cls.handler),
            initializer=read("FC_INITIALIZER", _entry, cls.initializer, empty=""),
            pre_stop=read("FC_PRE_STOP", _entry, cls.pre_stop, empty=""),
            pre_stop_optional="FC_PRE_STOP" not in environ,
            initialization_timeout=read(
                "FC_INITIALIZATION_TIMEOUT", _seconds, cls.initialization_timeout
            ),
            pre_stop_timeout=read("FC_PRE_STOP_TIMEOUT", _seconds, cls.pre_stop_timeout),
            timeout=read("FC_TIMEOUT", _seconds, cls.timeout),
            memory_size=read("FC_MEMORY_SIZE", _positive_int, cls.memory_size),
            min_instances=read("FC_MIN_INSTANCES", _count, cls.min_instances),
            max_instances=read("FC_MAX_INSTANCES", _positive_int, cls.max_instances),
            instance_concurrency=read(
                "FC_INSTANCE_CONCURRENCY", _positive_int, cls.instance_concurrency
            ),
            idle_seconds=read("FC_IDLE_SECONDS", _seconds, cls.idle_seconds),
            max_queued_requests=read("FC_MAX_QUEUED_REQUESTS", _count, cls.max_queued_requests),
            prewarm=read("FC_PREWARM", _boolean, cls.prewarm),
            drain_seconds=read("DRAIN_SECONDS", _seconds_or_zero, cls.drain_seconds),
            request_head_timeout=read("REQUEST_HEAD_TIMEOUT", _seconds, cls.request_head_timeout),
            request_body_timeout=read("REQUEST_BODY_TIMEOUT", _seconds, cls.request_body_timeout),
            response_send_timeout=read(
                "RESPONSE_SEND_TIMEOUT", _seconds, cls.response_send_timeout
            ),
            prerendered_paths=read("FC_PRERENDERED_PATHS", _paths, cls.prerendered_paths, ()),
        )


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("not a TCP port (1..65535)")
    return value


def _count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _boolean(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value < float("inf"):
        raise ValueError("must be a positive number of seconds")
    return value


def _seconds_or_zero(raw: str) -> float:
    value = float(raw)
    if not 0 <= value < float("inf"):
        raise ValueError("must be 0 or a positive number of seconds")
    return value


def _paths(raw: str) -> tuple[str, ...]:
    paths = tuple(path.strip() for path in raw.split(",") if path.strip())
    for path in paths:
        if not path.startswith("/") or any(c in path for c in "?# ") or not path.isprintable():
            raise ValueError(f"{path!r} is not a path like '/.well-known/jwks.json'")
    return paths


def _entry(raw: str) -> str:
    if not ENTRY_NAME.fullmatch(raw):
        raise ValueError("must be 'module.attribute', like 'index.handler'")
    return raw
