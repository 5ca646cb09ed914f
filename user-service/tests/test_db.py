"""A database that is down answers 503 problem+json, never a 500 and never a made-up answer;
its errors never carry the values bound to a statement."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service_kit import db


def test_a_request_while_the_database_is_down_is_503(make_app, as_service, closed_port):
    app = make_app(DATABASE_URL=f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port}/users")
    response = app.test_client().get("/users/1", headers=as_service("users:read"))
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"


def test_a_database_error_never_shows_the_values_bound_to_it(app):
    with (
        app.app_context(),
        db.engine().connect() as connection,
        pytest.raises(DBAPIError) as raised,
    ):
        connection.execute(
            text("SELECT id FROM no_such_table WHERE username = :name"), {"name": "a-secret-value"}
        )
    assert "no_such_table" in str(raised.value)
    assert "a-secret-value" not in str(raised.value)
