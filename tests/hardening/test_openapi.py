"""The public API's OpenAPI 3.1 description (faas/openapi.yaml): valid, complete, served at
/openapi.json, and true of the live stack. schemathesis generates requests from it (valid and
invalid ones; as a user with a Bearer token, and with no or junk credentials) and every answer
must be documented there, status, content type, body and headers; none may be a 5xx, and no
request the description calls invalid may succeed.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
import yaml
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support.api import PublicClient, registered_user
from support.stack import ROOT, Stack

DESCRIPTION = ROOT / "faas" / "openapi.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # A request the description calls invalid is refused (4xx), not served as if it were valid.
    negative_data_rejection,
]
# Bounded and repeatable: a few examples per operation and phase (examples, coverage, fuzzing),
# the same ones every run, so that both runs together take about half a minute on two cores.
SCHEMATHESIS_CONFIG = {
    "seed": 20261125,
    "request-timeout": 10,
    "generation": {"max-examples": 8, "deterministic": True, "database": "none"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def load_description() -> dict[str, Any]:
    return yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))


def _walk(node: Any, pointer: str = "#") -> Iterator[tuple[str, Any]]:
    """Every node of a JSON document, with its JSON pointer."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def _resolve(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _operations(description: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in description["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_description_is_valid_openapi_3_1():
    description = load_description()
    assert description["openapi"].startswith("3.1.")
    # The official OpenAPI 3.1 meta-schema (schemathesis's copy) ...
    schemathesis.openapi.from_dict(description).validate()
    # ... leaves the JSON Schemas inside unchecked: each must be valid JSON Schema 2020-12.
    for pointer, node in _walk(description):
        if pointer.endswith("/schema") or re.fullmatch(r"#/components/schemas/[^/]+", pointer):
            assert jsonschema_rs.meta.is_valid(node), pointer
    for _, node in _walk(description):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            _resolve(description, node["$ref"])  # a KeyError names a $ref that points nowhere
    operation_ids = [operation["operationId"] for _, _, operation in _operations(description)]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_route_of_faas_but_the_browser_app_is_described(tmp_path):
    from gateway import close, create_app

    app = create_app({"JWT_PRIVATE_KEY_FILE": str(tmp_path / "key.pem")})
    try:
        routes = {
            (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
            for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
    finally:
        close(app)
    described = {(path, method) for path, method, _ in _operations(load_description())}
    # The browser app and its assets are files, not API.
    assert routes - {("/", "get"), ("/{filename}", "get")} == described


def test_openapi_json_serves_the_yaml_description(pg_stack: Stack):
    response = requests.get(f"{pg_stack.faas_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads(json.dumps(load_description()))


@pytest.fixture(scope="module")
def bearer_user(pg_stack: Stack) -> tuple[PublicClient, str]:
    return registered_user(pg_stack.faas_url, bearer=True)


def _token_for(case: schemathesis.Case, faas_url: str, user: tuple[PublicClient, str]) -> str:
    """The user's token; a logout gets a session of its own (it ends the session it is sent
    with), and ending all sessions a user of its own."""
    client, username = user
    if case.operation.path == "/api/sessions":
        return registered_user(faas_url, bearer=True)[0].token
    if case.operation.path != "/api/logout":
        return client.token
    other = PublicClient(faas_url)
    response = other.take_token(username)
    assert response.status_code == 200, response.text
    return other.token


def _aim_at_own_todo(case: schemathesis.Case, client: PublicClient) -> None:
    """A valid request for one todo goes to a new todo of the caller's; a generated id is someone
    else's or none, and would only ever be 404."""
    if "todo_id" in (case.path_parameters or {}) and case.meta.generation.mode.is_positive:
        # An explicit order: the fuzzing may have left a todo at the last order there is.
        response = client.call("POST", "/api/todos", json={"title": "for schemathesis", "order": 0})
        assert response.status_code == 201, response.text
        case.path_parameters["todo_id"] = response.json()["id"]


# Loaded from the file at import, so that pytest collects one test per operation; the live faas
# serves the same description (test_openapi_json_serves_the_yaml_description), and every call
# goes to it.
schema = schemathesis.openapi.from_path(
    DESCRIPTION, config=schemathesis.Config.from_dict(SCHEMATHESIS_CONFIG)
)


@schema.parametrize()
def test_as_a_bearer_user_every_answer_is_documented_and_none_is_5xx(case, pg_stack, bearer_user):
    _aim_at_own_todo(case, bearer_user[0])
    headers = {"Authorization": f"Bearer {_token_for(case, pg_stack.faas_url, bearer_user)}"}
    # Each call on a new session: no cookie set by one (a login) goes with the next.
    case.call_and_validate(base_url=pg_stack.faas_url, headers=headers, checks=CHECKS)


@schema.parametrize()
def test_without_credentials_every_answer_is_documented_and_none_is_5xx(case, pg_stack):
    case.call_and_validate(base_url=pg_stack.faas_url, checks=CHECKS)
