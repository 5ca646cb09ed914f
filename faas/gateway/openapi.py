"""GET /openapi.json: the public API's OpenAPI 3.1 description (faas/openapi.yaml) as JSON."""

import json
from functools import cache
from pathlib import Path

import yaml
from flask import Blueprint, Response

DESCRIPTION = Path(__file__).resolve().parent.parent / "openapi.yaml"

bp = Blueprint("openapi", __name__)


@cache
def description_json() -> str:
    """The description rendered once, on first use: importing or creating the app reads no file,
    and the initializer stays free of work that belongs to a request."""
    with DESCRIPTION.open(encoding="utf-8") as file:
        return json.dumps(yaml.safe_load(file), ensure_ascii=False)


@bp.get("/openapi.json")
def get_openapi() -> Response:
    """The description; it changes only with a new deployment, so caches may keep it briefly."""
    response = Response(description_json(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
