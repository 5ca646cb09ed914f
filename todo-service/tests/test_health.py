"""Liveness, readiness (database reachable and migrated) and metrics; a lost database is a 503."""

import pytest

from support.databases import database


@pytest.fixture
def unreachable_url(backend: str, closed_port: int, tmp_path) -> str:
    """A database URL that cannot be opened: nobody listens there, or the "file" is a folder."""
    if backend == "postgresql":
        return f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port}/todos"
    return f"sqlite:///{tmp_path}"


def test_healthz_answers_ok(client):
    response = client.get("/healthz")

    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_readyz_answers_200_with_the_schema_at_the_latest_migration(client):
    response = client.get("/readyz")

    assert (response.status_code, response.json) == (200, {"status": "ready", "revision": "0001"})


def test_readyz_answers_503_when_the_database_is_unreachable(make_app, unreachable_url):
    response = make_app(DATABASE_URL=unreachable_url).test_client().get("/readyz")

    assert (response.status_code, response.mimetype) == (503, "application/problem+json")
    assert response.headers["Retry-After"]


def test_readyz_answers_503_before_the_migrations_ran(make_app, backend, tmp_path):
    with database(backend, tmp_path) as empty_url:
        app = make_app(DATABASE_URL=empty_url)
        response = app.test_client().get("/readyz")
        app.extensions["db_engine"].dispose()

    assert (response.status_code, response.mimetype) == (503, "application/problem+json")


def test_the_api_answers_503_never_an_empty_list_when_the_database_is_unreachable(
    make_app, unreachable_url, auth
):
    response = make_app(DATABASE_URL=unreachable_url).test_client().get("/todos", headers=auth)

    assert (response.status_code, response.mimetype) == (503, "application/problem+json")
    assert response.headers["Retry-After"]


def test_metrics_count_the_requests_answered(client, auth):
    client.get("/todos", headers=auth)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert 'http_requests_total{method="GET",route="/todos",status="200"}' in response.text
    assert 'http_request_duration_seconds_count{method="GET",route="/todos"}' in response.text
