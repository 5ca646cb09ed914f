"""A database that is down answers 503 problem+json, never a 500 and never a made-up answer."""


def test_a_request_while_the_database_is_down_is_503(make_app, as_service, closed_port):
    app = make_app(DATABASE_URL=f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port}/users")
    response = app.test_client().get("/users/1", headers=as_service("users:read"))
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
