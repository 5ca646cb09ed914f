"""A small client of the public API, as a browser (cookie) or as an API client (Bearer) uses it."""

import secrets

import requests

PASSWORD = "correct horse battery staple"


def new_username(prefix: str = "user") -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


class PublicClient:
    """One user's view of faas: a requests session that keeps the cookie, or a Bearer token."""

    def __init__(self, faas_url: str, timeout: float = 10):
        self.base = faas_url
        self.timeout = timeout
        self.http = requests.Session()
        # Browsers send Origin on every same-origin POST; the CSRF check requires it with a cookie.
        self.http.headers["Origin"] = faas_url
        self.token: str | None = None

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        kwargs.setdefault("timeout", self.timeout)
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.http.request(method, self.base + path, headers=headers, **kwargs)

    def register(self, username: str, password: str = PASSWORD) -> requests.Response:
        return self.call("POST", "/api/register", json={"username": username, "password": password})

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        """Cookie login, as the browser app does."""
        return self.call("POST", "/api/login", json={"username": username, "password": password})

    def take_token(self, username: str, password: str = PASSWORD) -> requests.Response:
        """Bearer login, as an API client does: later calls carry the token, no cookie."""
        response = self.call(
            "POST", "/api/token", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def cookie(self) -> str | None:
        return self.http.cookies.get("jwtToken")


def registered_user(faas_url: str, bearer: bool = False) -> tuple[PublicClient, str]:
    """A new user, logged in by cookie (or Bearer); the client and the username."""
    client = PublicClient(faas_url)
    username = new_username()
    assert client.register(username).status_code == 201
    response = client.take_token(username) if bearer else client.login(username)
    assert response.status_code == 200, response.text
    return client, username
