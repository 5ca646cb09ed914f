"""Errors the router raises are problem+json like every other error."""


def test_an_unknown_path_is_a_problem_404(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404
    assert response.json["title"] == "Not Found"


def test_a_wrong_method_is_a_problem_405_with_allow(client):
    response = client.put("/users")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "POST" in response.headers["Allow"]
