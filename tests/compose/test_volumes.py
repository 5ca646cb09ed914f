"""The data lives in volumes: `down` then `up` keeps it (and the signing key), `down --volumes`
removes it. Runs last (pytest takes the files in name order): it ends the session's user."""

from compose.project import REPORT, ComposeProject

from support.api import PublicClient

WARM_UP_LIMIT = 20  # seconds: `up --build --wait` with nothing changed, containers created anew


def test_down_then_up_keeps_the_data_and_the_signing_key(
    project: ComposeProject, bearer: PublicClient
):
    assert bearer.call("POST", "/api/todos", json={"title": "kept"}).status_code == 201
    kept = bearer.call("GET", "/api/todos").json()
    project.compose("down")
    seconds = project.up()
    REPORT["up --build --wait after down (warm, nothing changed)"] = f"{seconds:.1f} s"
    assert seconds < WARM_UP_LIMIT
    answer = bearer.call("GET", "/api/todos")  # the token from before: the key was kept too
    assert answer.status_code == 200 and answer.json() == kept


def test_down_with_volumes_removes_the_data(project: ComposeProject, bearer: PublicClient):
    project.compose("down", "--volumes")
    assert project.containers() == []
    project.up()
    assert bearer.call("GET", "/api/todos").status_code == 401, "a new key: old tokens are void"
    again = PublicClient(project.faas_url)
    assert again.take_token(bearer.username).status_code == 401, "the account is gone"
