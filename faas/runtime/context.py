"""The context object handed to the initializer, the handler (environ['fc.context']) and pre_stop.

Attribute names mirror Function Compute's Python context (`request_id`, `function.name`,
`function.handler`, `function.memory`, `function.timeout`, `function.initializer`,
`function.initialization_timeout`), so the same function code runs on the platform unchanged.
"""

import re
import uuid
from dataclasses import dataclass, replace

from runtime.config import Config

# An incoming X-Request-ID is reused only when it is safe to log and to forward as a header.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


@dataclass(frozen=True)
class FunctionMeta:
    name: str
    handler: str
    initializer: str
    memory_size: int
    timeout: float
    initialization_timeout: float
    instance_concurrency: int

    @property
    def memory(self) -> int:
        """Function Compute's name for the memory size, in MB."""
        return self.memory_size


@dataclass(frozen=True)
class Context:
    request_id: str
    function: FunctionMeta
    instance_id: str

    def for_request(self, request_id: str) -> "Context":
        """The same instance and function, for another request (or initializer run)."""
        return replace(self, request_id=request_id)


def instance_context(config: Config) -> Context:
    """A context for a new instance: a fresh instance id, and a fresh request id for its init."""
    function = FunctionMeta(
        name=config.function_name,
        handler=config.handler,
        initializer=config.initializer,
        memory_size=config.memory_size,
        timeout=config.timeout,
        initialization_timeout=config.initialization_timeout,
        instance_concurrency=config.instance_concurrency,
    )
    return Context(request_id=new_request_id(), function=function, instance_id=uuid.uuid4().hex)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header: str | None) -> str:
    """The incoming X-Request-ID when it is a sane token, else a new id."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return new_request_id()
