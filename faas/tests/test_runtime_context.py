"""The context object: Function Compute's attribute names, and request ids that are safe."""

import re

from runtime.config import Config
from runtime.context import instance_context, request_id_from


def test_context_mirrors_function_compute():
    config = Config.from_env({"FC_FUNCTION_NAME": "f", "FC_MEMORY_SIZE": "256", "FC_TIMEOUT": "9"})

    context = instance_context(config)

    function = context.function
    assert (function.name, function.handler, function.initializer) == (
        "f",
        "index.handler",
        "index.initializer",
    )
    assert function.memory == function.memory_size == 256
    assert (function.timeout, function.initialization_timeout) == (9.0, 30.0)
    assert function.instance_concurrency == 8
    assert context.request_id != context.instance_id


def test_for_request_keeps_the_instance():
    context = instance_context(Config())

    request = context.for_request("req-1")

    assert request.request_id == "req-1"
    assert (request.instance_id, request.function) == (context.instance_id, context.function)


def test_request_id_is_reused_only_when_sane():
    assert request_id_from("Abc-1.2_3") == "Abc-1.2_3"
    assert request_id_from("x" * 128) == "x" * 128
    for unsafe in (None, "", "x" * 129, "a b", "a\nb", "ab\n", "ü", "a/b"):
        assert re.fullmatch(r"[0-9a-f]{32}", request_id_from(unsafe))
