"""Token verification at all three services: faas (its own user tokens), todo-service, user-service.

Every token here is built by the test: either signed with faas's real key (read from the stack's
key file, so only the claim or header under test is wrong) or forged by hand. Each defect must be
refused by every service that verifies tokens; the controls show the same call succeeds otherwise.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from support.api import registered_user
from support.tokens import ISSUER, JwksServer, SigningKey

AUDIENCE = ["user-service", "todo-service"]
DROP = object()  # a claim override that removes the claim (None is a JSON null)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Any) -> str:
    return b64(json.dumps(value).encode())


def forge(header: Any, claims: Any, key: bytes | None = None, digest=hashlib.sha256) -> str:
    """A token PyJWT refuses to make: HMAC keyed with anything, or no signature at all."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    if key is None:
        return f"{signing_input}."
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), digest).digest())}"


class Caller:
    """One real user of the stack, and tokens about them signed with faas's own key."""

    def __init__(self, stack):
        self.stack = stack
        client, _ = registered_user(stack.faas_url, bearer=True)
        self.token = client.token
        self.claims = jwt.decode(self.token, options={"verify_signature": False})
        jwks = requests.get(f"{stack.faas_url}/.well-known/jwks.json", timeout=5).json()
        self.jwk = jwks["keys"][0]
        pem = Path(stack.env["JWT_PRIVATE_KEY_FILE"]).read_bytes()
        self.key = SigningKey(serialization.load_pem_private_key(pem, None), self.jwk["kid"])
        self.http = requests.Session()

    def user_claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {**self.claims, "iat": now, "nbf": now, "exp": now + 900}
        claims["jti"] = secrets.token_urlsafe(16)
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not DROP}

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        """Signed with faas's key by hand: PyJWT would refuse to encode some of the bad claims."""
        header = {"alg": "EdDSA", "typ": "at+jwt", "kid": self.key.kid, **headers}
        signing_input = f"{segment(header)}.{segment(claims)}"
        return f"{signing_input}.{b64(self.key.private_key.sign(signing_input.encode()))}"

    def statuses(self, token: str) -> dict[str, int]:
        """The status each service answers a read with this Bearer token."""
        urls = {
            "faas": f"{self.stack.faas_url}/api/todos",
            "todo-service": f"{self.stack.todo_service_url}/todos",
            "user-service": f"{self.stack.user_service_url}/users/{self.claims['sub']}",
        }
        headers = {"Authorization": f"Bearer {token}"}
        return {
            name: self.http.get(url, headers=headers, timeout=5).status_code
            for name, url in urls.items()
        }


@pytest.fixture(scope="module")
def caller(pg_stack) -> Caller:
    return Caller(pg_stack)


def everywhere(status: int) -> dict[str, int]:
    return {"faas": status, "todo-service": status, "user-service": status}


def test_a_token_signed_with_faas_key_is_accepted_everywhere(caller):
    assert caller.statuses(caller.token) == everywhere(200)
    assert caller.statuses(caller.sign(caller.user_claims())) == everywhere(200)


# --- the algorithm is pinned -------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_casing_is_refused(caller, alg):
    token = forge({"alg": alg, "typ": "at+jwt", "kid": caller.key.kid}, caller.user_claims())
    assert caller.statuses(token) == everywhere(401)


def test_a_stripped_signature_is_refused(caller):
    header_and_payload = caller.sign(caller.user_claims()).rsplit(".", 1)[0]
    assert caller.statuses(f"{header_and_payload}.") == everywhere(401)


@pytest.mark.parametrize(
    ("algorithm", "make_key"),
    [
        ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("HS512", lambda: secrets.token_bytes(64)),
    ],
)
def test_another_algorithm_is_refused(caller, algorithm, make_key):
    headers = {"kid": caller.key.kid, "typ": "at+jwt"}
    token = jwt.encode(caller.user_claims(), make_key(), algorithm, headers=headers)
    assert caller.statuses(token) == everywhere(401)


def public_key_encodings(caller: Caller) -> dict[str, bytes]:
    public = caller.key.private_key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "PEM": pem,
        "PEM with CRLF": pem.replace(b"\n", b"\r\n"),
        "PEM without the trailing newline": pem.rstrip(b"\n"),
        "DER": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "JWK JSON": json.dumps(caller.jwk).encode(),
        "compact JWK JSON": json.dumps(caller.jwk, separators=(",", ":")).encode(),
        "raw key bytes": raw,
        "base64url x": caller.jwk["x"].encode(),
    }


def test_hmac_keyed_with_the_public_key_in_any_encoding_is_refused(caller):
    refused = {}
    for name, key in public_key_encodings(caller).items():
        for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
            header = {"alg": alg, "typ": "at+jwt", "kid": caller.key.kid}
            refused[f"{alg} {name}"] = caller.statuses(
                forge(header, caller.user_claims(), key, digest)
            )
    assert refused == {name: everywhere(401) for name in refused}


# --- key material named in the header is never used or fetched --------------------------------


def self_signed_certificate(attacker: SigningKey) -> str:
    """base64 DER of a certificate for the attacker's key, as x5c carries it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "todo-faas")])
    now = time.time()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(attacker.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.fromtimestamp(now - 60, UTC))
        .not_valid_after(datetime.fromtimestamp(now + 3600, UTC))
        .sign(attacker.private_key, None)
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def test_key_material_named_in_the_header_is_never_used_or_fetched(caller):
    attacker = SigningKey()
    host = JwksServer([attacker])  # the attacker's JWKS, at every path
    try:
        named = {
            "jwk": {"jwk": attacker.public_jwk},
            "jku": {"jku": host.url},
            "x5u": {"x5u": host.url},
            "x5c": {"x5c": [self_signed_certificate(attacker)]},
        }
        answers = {}
        for parameter, header in named.items():
            for kid in (attacker.kid, caller.key.kid):  # its own kid, and faas's
                token = attacker.sign(caller.user_claims(), {"typ": "at+jwt", **header, "kid": kid})
                answers[f"{parameter} kid={kid}"] = caller.statuses(token)
        assert answers == {name: everywhere(401) for name in answers}
        assert host.fetches == 0
    finally:
        host.close()


def test_a_token_naming_key_material_is_refused_even_when_signed_by_faas(caller):
    host = JwksServer([])
    try:
        token = caller.sign(caller.user_claims(), jku=host.url, jwk=caller.jwk)
        assert caller.statuses(token) == everywhere(401)
        assert host.fetches == 0
    finally:
        host.close()


# --- claims: required, typed, exact ------------------------------------------------------------

REQUIRED = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]


@pytest.mark.parametrize("claim", REQUIRED)
def test_each_required_claim_missing_is_refused(caller, claim):
    assert caller.statuses(caller.sign(caller.user_claims(**{claim: DROP}))) == everywhere(401)


def wrong_types(now: int) -> dict[str, dict[str, Any]]:
    """Claim values of the wrong RFC 7519 type, each in a token that is otherwise valid."""
    later = now + 900
    return {
        "exp as a numeric string": {"exp": str(later)},
        "exp as a float string": {"exp": f"{later}.0"},
        "exp true": {"exp": True},
        "exp null": {"exp": None},
        "exp a list": {"exp": [later]},
        "exp infinite": {"exp": float("inf")},
        "exp NaN": {"exp": float("nan")},
        "nbf as a numeric string": {"nbf": str(now)},
        "nbf true": {"nbf": True},
        "nbf null": {"nbf": None},
        "nbf minus infinity": {"nbf": float("-inf")},
        "iat as a numeric string": {"iat": str(now)},
        "iat true": {"iat": True},
        "iat null": {"iat": None},
        "iat NaN": {"iat": float("nan")},
        "sub a number": {"sub": 1},
        "sub null": {"sub": None},
        "sub a list": {"sub": ["1"]},
        "sub empty": {"sub": ""},
        "jti a number": {"jti": 12345678901234567890},
        "jti null": {"jti": None},
        "jti empty": {"jti": ""},
        "jti an object": {"jti": {"id": "x"}},
        "aud null": {"aud": None},
        "aud a number": {"aud": 1},
        "aud an empty list": {"aud": []},
        "aud an object": {"aud": {"todo-service": True, "user-service": True}},
        "iss null": {"iss": None},
        "iss a list": {"iss": [ISSUER]},
    }


def test_claims_of_the_wrong_type_are_refused(caller):
    cases = wrong_types(int(time.time()))
    answers = {
        name: caller.statuses(caller.sign(caller.user_claims(**change)))
        for name, change in cases.items()
    }
    assert answers == {name: everywhere(401) for name in cases}


@pytest.mark.parametrize(
    "issuer",
    [
        "todo-faa",
        "todo-faasx",
        "xtodo-faas",
        "Todo-Faas",
        "TODO-FAAS",
        " todo-faas",
        "todo-faas ",
        "todo-faas\u0000",
        "todo-faas/",
        "https://todo-faas",
    ],
)
def test_the_issuer_must_match_exactly(caller, issuer):
    assert caller.statuses(caller.sign(caller.user_claims(iss=issuer))) == everywhere(401)


@pytest.mark.parametrize(
    ("claim", "offset", "status"),
    [
        ("exp", -10, 200),
        ("exp", -90, 401),
        ("nbf", 10, 200),
        ("nbf", 90, 401),
        ("iat", 10, 200),
        ("iat", 90, 401),
    ],
)
def test_the_leeway_is_30_seconds(caller, claim, offset, status):
    """The fixed leeway the README documents: 10 s of clock skew passes, 90 s does not."""
    now = int(time.time())
    times = {"iat": now, "nbf": now, "exp": now + 900} | {claim: now + offset}
    if claim == "exp":
        times["iat"] = times["nbf"] = now - 900
    assert caller.statuses(caller.sign(caller.user_claims(**times))) == everywhere(status)


# --- user tokens and service tokens never stand in for each other ------------------------------


def scoped(caller: Caller, scope: str, audience: Any, **changes: Any) -> str:
    """A service token as faas mints one (sub = the function, a scope, no session)."""
    claims = caller.user_claims(sub="todo-faas", aud=audience, scope=scope, **changes)
    return caller.sign({k: v for k, v in claims.items() if k not in ("sid", "username")})


def test_a_service_token_is_no_user_token_at_todo_service_or_faas(caller):
    stack = caller.stack
    tokens = {
        "as minted": scoped(caller, "users:read", "user-service"),
        "for both audiences": scoped(caller, "users:read", AUDIENCE),
        "with the user's sub and sid": caller.sign(caller.user_claims(scope="users:read")),
    }
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        todos = requests.get(f"{stack.todo_service_url}/todos", headers=headers, timeout=5)
        public = requests.get(f"{stack.faas_url}/api/todos", headers=headers, timeout=5)
        me = requests.get(f"{stack.faas_url}/api/me", headers=headers, timeout=5)
        assert todos.status_code in (401, 403), name
        assert public.status_code in (401, 403) and me.status_code in (401, 403), name
    both = {"Authorization": f"Bearer {tokens['for both audiences']}"}
    # Not only the audience stops it: a service token for todo-service is still no user token.
    assert (
        requests.get(f"{stack.todo_service_url}/todos", headers=both, timeout=5).status_code == 403
    )


def test_a_user_token_cannot_act_as_faas_at_user_service(caller):
    stack = caller.stack
    headers = {"Authorization": f"Bearer {caller.token}"}
    credentials = {"username": f"mallory_{secrets.token_hex(4)}", "password": "a long passphrase"}
    sid = caller.claims["sid"]
    calls = {
        "create a user": ("POST", "/users", credentials),
        "authenticate": ("POST", "/users/authenticate", credentials),
        "check a session": ("GET", f"/sessions/{sid}", None),
        "revoke a session": ("DELETE", f"/sessions/{sid}", None),
        "revoke all sessions": ("DELETE", f"/users/{caller.claims['sub']}/sessions", None),
    }
    answers = {
        name: requests.request(
            method, stack.user_service_url + path, json=body, headers=headers, timeout=5
        ).status_code
        for name, (method, path, body) in calls.items()
    }
    assert answers == {name: 403 for name in calls}
    scope_too = caller.sign(caller.user_claims(scope="users:create"))
    response = requests.post(
        f"{stack.user_service_url}/users",
        json=credentials,
        headers={"Authorization": f"Bearer {scope_too}"},
        timeout=5,
    )
    assert response.status_code == 403
    assert caller.statuses(caller.token) == everywhere(200)  # the session was not revoked


# --- garbage never makes a 5xx ------------------------------------------------------------------


def garbage(kid: str) -> dict[str, str]:
    claims = segment({"sub": "1"})
    signature = b64(secrets.token_bytes(64))

    def with_header(header: Any) -> str:
        return f"{segment(header)}.{claims}.{signature}"

    def raw_header(text: str) -> str:
        return f"{b64(text.encode())}.{claims}.{signature}"

    printable = bytes(range(0x21, 0x7F)) + bytes(range(0xA0, 0x100))
    return {
        "random ASCII": secrets.token_urlsafe(200),
        "random bytes": "".join(chr(secrets.choice(printable)) for _ in range(300)),
        "three dots": "...",
        "four segments": "a.b.c.d",
        "one dot": ".",
        "not base64": "!!!.@@@.###",
        "base64 with padding": f"{b64(b'{}')}==.{claims}==.{signature}==",
        "header a JSON array": with_header(["EdDSA", kid]),
        "header a string": with_header("EdDSA"),
        "header a number": with_header(5),
        "header null": with_header(None),
        "header not JSON": raw_header("{alg: EdDSA"),
        "header not UTF-8": f"{b64(bytes([0xFF, 0xFE]))}.{claims}.{signature}",
        "alg a list": with_header({"alg": ["EdDSA"], "kid": kid}),
        "kid a number": with_header({"alg": "EdDSA", "kid": 7}),
        "kid a list": with_header({"alg": "EdDSA", "kid": [kid]}),
        "kid an object": with_header({"alg": "EdDSA", "kid": {"kid": kid}}),
        "kid null": with_header({"alg": "EdDSA", "kid": None}),
        "kid with NUL": with_header({"alg": "EdDSA", "kid": kid + "\u0000"}),
        "kid in unicode": with_header({"alg": "EdDSA", "kid": "ключ🔑\u202e"}),
        "kid a path": with_header({"alg": "EdDSA", "kid": "../../../etc/passwd"}),
        "kid of 2,000 chars": with_header({"alg": "EdDSA", "kid": "k" * 2000}),
        "kid of 10,000 chars": with_header({"alg": "EdDSA", "kid": "k" * 10_000}),
        "token of 100 KB": with_header({"alg": "EdDSA", "kid": kid}) + "A" * 100_000,
        "nested arrays": raw_header("[" * 4000 + "]" * 4000),
        "nested objects": raw_header('{"a":' * 1000 + "1" + "}" * 1000),
        "a 5,000-digit number": raw_header(
            json.dumps({"alg": "EdDSA", "kid": kid})[:-1] + ', "n": 1' + "0" * 5000 + "}"
        ),
        "unknown crit": with_header({"alg": "EdDSA", "kid": kid, "crit": ["exp"], "exp": 1}),
        "unencoded payload": with_header(
            {"alg": "EdDSA", "kid": kid, "b64": False, "crit": ["b64"]}
        ),
        "faas's kid, bad signature": with_header({"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}),
        "payload nested deeply": f"{segment({'alg': 'EdDSA', 'kid': kid})}."
        f"{b64(b'[' * 4000)}.{signature}",
    }


def test_garbage_tokens_are_refused_with_4xx_never_5xx(caller):
    stack = caller.stack
    allowed = {400, 401, 431}  # 400/431 when gunicorn refuses an oversized header first
    answers = {}
    for name, token in garbage(caller.key.kid).items():
        bearer = {"Authorization": f"Bearer {token}"}
        calls = {
            "faas bearer": (f"{stack.faas_url}/api/todos", bearer),
            "faas cookie": (f"{stack.faas_url}/api/me", {"Cookie": f"jwtToken={token}"}),
            "todo-service": (f"{stack.todo_service_url}/todos", bearer),
            "user-service": (f"{stack.user_service_url}/users/1", bearer),
        }
        for where, (url, headers) in calls.items():
            status = requests.get(url, headers=headers, timeout=5).status_code
            if status not in allowed:
                answers[f"{name} at {where}"] = status
    assert answers == {}
