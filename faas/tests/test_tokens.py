"""gateway/tokens.py: the signing key made once, its kid and JWKS, the tokens issued and accepted."""

import base64
import hashlib
import hmac
import json
import stat
import threading
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.tokens import Keys, Tokens, load_or_create_private_key, load_public_key, thumbprint
from support.tokens import SigningKey, user_claims

AUDIENCE = ["user-service", "todo-service"]


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture
def tokens() -> Tokens:
    return Tokens(Keys(Ed25519PrivateKey.generate()), "todo-faas", "todo-faas", 900)


def sign(tokens: Tokens, claims: dict, **headers) -> str:
    """A token signed with the current key, with any claims and headers."""
    header = {"kid": tokens.keys.kid, "typ": "at+jwt", **headers}
    return jwt.encode(claims, tokens.keys.private_key, "EdDSA", headers=header)


def test_kid_is_the_rfc7638_thumbprint():
    # RFC 8037, appendix A.3: the thumbprint of the example Ed25519 key.
    public = Ed25519PublicKey.from_public_bytes(
        bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    )
    assert thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_missing_key_is_generated_once_with_mode_0600_and_then_reused(tmp_path: Path):
    path = tmp_path / "keys" / "jwt-private-key.pem"

    first = load_or_create_private_key(path)
    again = load_or_create_private_key(path)

    assert public_bytes(first) == public_bytes(again)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["jwt-private-key.pem"]


def test_workers_starting_at_once_all_end_up_with_the_one_key_on_disk(tmp_path: Path):
    path = tmp_path / "jwt-private-key.pem"
    barrier = threading.Barrier(8)
    keys: list[Ed25519PrivateKey] = []

    def start() -> None:
        barrier.wait()
        keys.append(load_or_create_private_key(path))

    workers = [threading.Thread(target=start) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)

    on_disk = public_bytes(load_or_create_private_key(path))
    assert len(keys) == 8
    assert {public_bytes(key) for key in keys} == {on_disk}
    assert [p.name for p in tmp_path.iterdir()] == ["jwt-private-key.pem"]


def test_a_key_file_of_another_kind_is_refused_by_name(tmp_path: Path):
    path = tmp_path / "ec.pem"
    path.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match=r"ec\.pem"):
        load_or_create_private_key(path)


def test_previous_keys_load_from_public_or_private_pem(tmp_path: Path):
    private = load_or_create_private_key(tmp_path / "old-private.pem")
    (tmp_path / "old-public.pem").write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )

    from_private = load_public_key(tmp_path / "old-private.pem")
    from_public = load_public_key(tmp_path / "old-public.pem")

    assert public_bytes(from_private) == public_bytes(from_public) == public_bytes(private)


def test_the_jwks_holds_public_halves_only_current_first():
    current, previous = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys = Keys(current, [previous.public_key(), current.public_key()])

    published = jwt.PyJWKSet.from_json(keys.jwks_json)

    assert [key.key_id for key in published.keys] == [
        thumbprint(current.public_key()),
        thumbprint(previous.public_key()),
    ]
    assert '"d"' not in keys.jwks_json


def test_a_user_token_has_the_agreed_claims_and_header(tokens: Tokens):
    token, exp = tokens.user_token(7, "alice", "session-1", not_after=int(time.time()) + 3600)

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": tokens.keys.kid}
    assert set(claims) == {"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "sid", "username"}
    assert claims["sub"] == "7" and claims["sid"] == "session-1" and claims["username"] == "alice"
    assert claims["aud"] == AUDIENCE and claims["iss"] == "todo-faas"
    assert claims["exp"] == exp == claims["iat"] + 900
    assert len(claims["jti"]) >= 22  # 128 bits or more, base64url


def test_a_user_token_never_outlives_its_session(tokens: Tokens):
    session_end = int(time.time()) + 60

    _token, exp = tokens.user_token(7, "alice", "session-1", not_after=session_end)

    assert exp == session_end


def test_a_service_token_carries_a_scope_and_no_session(tokens: Tokens):
    token = tokens.service_token("users:create")

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "user-service" and claims["sub"] == "todo-faas"
    assert claims["scope"] == "users:create" and "sid" not in claims
    assert claims["exp"] - claims["iat"] == 60
    assert tokens.service_token("users:create") == token  # reused while young
    assert tokens.service_token("sessions:check") != token


def test_an_issued_user_token_verifies(tokens: Tokens):
    token, _exp = tokens.user_token(7, "alice", "session-1", not_after=int(time.time()) + 60)

    assert tokens.verify_user_token(token)["sub"] == "7"


def test_a_token_signed_with_a_previous_key_verifies():
    old = SigningKey()
    tokens = Tokens(
        Keys(Ed25519PrivateKey.generate(), [old.private_key.public_key()]), "todo-faas", "f", 900
    )
    claims = user_claims("7", AUDIENCE)

    token = jwt.encode(
        claims,
        old.private_key,
        "EdDSA",
        headers={"kid": thumbprint(old.private_key.public_key()), "typ": "at+jwt"},
    )

    assert tokens.verify_user_token(token)["jti"] == claims["jti"]


@pytest.mark.parametrize(
    ("overrides", "headers"),
    [
        ({"exp": int(time.time()) - 120}, {}),
        ({"exp": str(int(time.time()) + 600)}, {}),
        ({"iat": True}, {}),
        ({"sid": None}, {}),
        ({"sid": 5}, {}),
        ({"username": None}, {}),
        ({"iss": "someone-else"}, {}),
        ({"aud": "user-service"}, {}),
        ({"scope": "users:create"}, {}),
        ({}, {"typ": "JWT"}),
        ({}, {"kid": "unknown"}),
    ],
    ids=[
        "expired",
        "exp-as-string",
        "iat-as-bool",
        "no-sid",
        "sid-not-a-string",
        "no-username",
        "other-issuer",
        "not-for-todo-service",
        "service-token",
        "not-an-access-token",
        "unknown-kid",
    ],
)
def test_an_unacceptable_user_token_is_refused(tokens: Tokens, overrides, headers):
    token = sign(tokens, user_claims("7", AUDIENCE, **overrides), **headers)

    with pytest.raises(jwt.InvalidTokenError):
        tokens.verify_user_token(token)


def test_a_token_signed_by_another_key_with_our_kid_is_refused(tokens: Tokens):
    forged = jwt.encode(
        user_claims("7", AUDIENCE),
        Ed25519PrivateKey.generate(),
        "EdDSA",
        headers={"kid": tokens.keys.kid, "typ": "at+jwt"},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        tokens.verify_user_token(forged)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_with_another_algorithm_is_refused(tokens: Tokens):
    # The classic confusion attack: HS256 keyed with the (public) verification key.
    public_pem = tokens.keys.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": tokens.keys.kid, "typ": "at+jwt"}
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(user_claims('7', AUDIENCE)).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(signature)}"

    with pytest.raises(jwt.InvalidTokenError):
        tokens.verify_user_token(forged)
