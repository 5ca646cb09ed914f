"""/healthz, /readyz and /metrics: readiness means a reachable database at the latest migration."""

from support.databases import database


def test_healthz_answers_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_answers_200_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "revision": "0004"}


def test_readyz_answers_503_when_the_database_is_unreachable(make_app, closed_port):
    app = make_app(DATABASE_URL=f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port}/users")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"


def test_readyz_answers_503_on_an_unmigrated_database(make_app, backend, tmp_path):
    with database(backend, tmp_path) as url:
        app = make_app(DATABASE_URL=url)
        response = app.test_client().get("/readyz")
        app.extensions["db_engine"].dispose()  # lets PostgreSQL drop the database
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"


def test_metrics_count_requests_by_route(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in response.text
