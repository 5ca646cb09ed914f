"""Tokens issued by faas work at both services; other keys never do; rotation keeps old tokens valid."""

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from support.api import registered_user
from support.stack import start_stack
from support.tokens import SigningKey, user_claims


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_issued_by_faas_are_accepted_by_both_services(system_stack):
    client, _ = registered_user(system_stack.faas_url, bearer=True)
    user_id = client.call("GET", "/api/me").json()["id"]
    todos = requests.get(
        f"{system_stack.todo_service_url}/todos", headers=bearer(client.token), timeout=5
    )
    user = requests.get(
        f"{system_stack.user_service_url}/users/{user_id}", headers=bearer(client.token), timeout=5
    )
    assert todos.status_code == 200 and user.status_code == 200


def test_a_token_signed_by_any_other_key_is_refused_everywhere(system_stack):
    client, _ = registered_user(system_stack.faas_url, bearer=True)
    user_id = str(client.call("GET", "/api/me").json()["id"])
    forged = SigningKey().sign(
        user_claims(user_id, ["user-service", "todo-service"]), {"typ": "at+jwt"}
    )
    for url in (
        f"{system_stack.faas_url}/api/todos",
        f"{system_stack.todo_service_url}/todos",
        f"{system_stack.user_service_url}/users/{user_id}",
    ):
        assert requests.get(url, headers=bearer(forged), timeout=5).status_code == 401, url


def write_private_key(path) -> None:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_after_rotation_tokens_of_the_previous_key_stay_valid(tmp_path):
    with start_stack(tmp_path) as stack:
        client, _ = registered_user(stack.faas_url, bearer=True)
        old_token = client.token
        old_key_file = stack.env["JWT_PRIVATE_KEY_FILE"]

        new_key_file = tmp_path / "jwt-private-key-2.pem"
        write_private_key(new_key_file)
        stack.stop("faas")
        stack.env["JWT_PRIVATE_KEY_FILE"] = str(new_key_file)
        stack.env["JWT_PREVIOUS_PUBLIC_KEY_FILES"] = old_key_file
        stack.start("faas")
        stack.wait_ready("faas")

        jwks = requests.get(f"{stack.faas_url}/.well-known/jwks.json", timeout=5).json()
        kids = [key["kid"] for key in jwks["keys"]]
        assert len(kids) == 2
        assert client.call("GET", "/api/todos").status_code == 200
        direct = requests.get(
            f"{stack.todo_service_url}/todos", headers=bearer(old_token), timeout=5
        )
        assert direct.status_code == 200

        fresh, _ = registered_user(stack.faas_url, bearer=True)
        assert fresh.token != old_token
        assert (
            fresh.call("POST", "/api/todos", json={"title": "signed by the new key"}).status_code
            == 201
        )
