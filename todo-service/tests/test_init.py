"""The app factory: urls built from faas's X-Forwarded-* headers, request ids, error shape."""

import re

FROM_FAAS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "todo.example",
    "X-Forwarded-Prefix": "/api",
    "X-Forwarded-For": "203.0.113.9",
}


def test_urls_name_the_public_address_faas_forwards(client, auth):
    headers = {**auth, **FROM_FAAS}

    created = client.post("/todos", json={"title": "public"}, headers=headers)
    listed = client.get("/todos", headers=headers).json

    url = f"https://todo.example/api/todos/{created.json['id']}"
    assert created.headers["Location"] == created.json["url"] == url
    assert [todo["url"] for todo in listed] == [url]


def test_the_next_link_names_the_public_address_too(client, auth, create):
    create("one"), create("two")

    response = client.get("/todos?limit=1", headers={**auth, **FROM_FAAS})

    assert re.fullmatch(
        r'<https://todo\.example/api/todos\?limit=1&after=[A-Za-z0-9_=-]+>; rel="next"',
        response.headers["Link"],
    )


def test_a_forwarded_port_is_kept_in_urls(client, auth):
    headers = {**auth, **FROM_FAAS, "X-Forwarded-Port": "8443"}

    response = client.post("/todos", json={"title": "port"}, headers=headers)

    assert response.json["url"] == f"https://todo.example:8443/api/todos/{response.json['id']}"


def test_every_answer_carries_a_request_id_and_keeps_a_sane_incoming_one(client, auth):
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz").headers["X-Request-ID"])

    response = client.get("/todos", headers={**auth, "X-Request-ID": "from-faas.1"})

    assert response.headers["X-Request-ID"] == "from-faas.1"


def test_an_unknown_path_is_a_404_problem(client, auth):
    response = client.get("/nothing-here", headers=auth)

    assert (response.status_code, response.mimetype) == (404, "application/problem+json")
    assert response.json["request_id"] == response.headers["X-Request-ID"]
