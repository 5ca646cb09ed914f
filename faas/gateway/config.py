"""Settings read once from the environment (docs/configuration.md), typed, with working local defaults."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

FAAS_DIR = Path(__file__).resolve().parent.parent
USER_SERVICE = "user-service"
TODO_SERVICE = "todo-service"
# The audiences of a user token: the services it may call.
USER_TOKEN_AUDIENCE = (USER_SERVICE, TODO_SERVICE)


def _number(environ: Mapping[str, str], name: str, default: float, kind: type = int, least=1):
    raw = environ.get(name) or str(default)
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not least <= value < float("inf"):
        raise ValueError(f"{name} must be at least {least}, got {raw!r}")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = (environ.get(name) or "false").strip().lower()
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"{name} must be true or false, got {raw!r}")
    return raw in ("true", "1", "yes")


def _public_url(environ: Mapping[str, str], secure: bool) -> str:
    """PUBLIC_URL, normalised (lower-case scheme and host, no default port, no trailing slash).

    Without it: this process's own bind address, which is what `make run` users open.
    """
    raw = environ.get("PUBLIC_URL")
    if not raw:
        host = environ.get("HOST") or "127.0.0.1"
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # a wildcard names no host
        host = f"[{host}]" if ":" in host else host
        raw = f"{'https' if secure else 'http'}://{host}:{environ.get('PORT') or 9000}"
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"PUBLIC_URL must be an http(s) URL, got {raw!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
        raise ValueError(f"PUBLIC_URL must be an http(s) URL with a host, got {raw!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_URL must not have a query or fragment, got {raw!r}")
    if secure and parts.scheme != "https":
        raise ValueError(f"PUBLIC_URL must be https when COOKIE_SECURE is true, got {raw!r}")
    host = parts.hostname
    host = f"[{host}]" if ":" in host else host
    default_port = {"http": 80, "https": 443}[parts.scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Config:
    jwt_issuer: str
    function_name: str  # the `sub` of service tokens
    user_service_url: str
    todo_service_url: str
    jwt_private_key_file: Path
    jwt_previous_public_key_files: tuple[Path, ...]
    jwt_ttl_seconds: int
    cookie_secure: bool
    initialization_timeout: float
    instance_concurrency: int
    session_check_cache_seconds: float
    service_timeout_seconds: float
    service_connect_timeout_seconds: float
    static_dir: Path
    # Reverse proxies in front of faas that append the client's address to X-Forwarded-For:
    # the client is the address this many entries from the end. 0: the header is ignored,
    # and the client is the peer (with a proxy in front, every client is then the proxy).
    trusted_proxies: int
    # Where browsers and API clients reach faas: its origin is the one the CSRF check accepts,
    # and todo urls are built from it, never from the request's Host or X-Forwarded-* headers.
    public_url: str

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix makes the browser insist on Secure, Path=/ and no Domain.
        return "__Host-jwtToken" if self.cookie_secure else "jwtToken"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        previous = environ.get("JWT_PREVIOUS_PUBLIC_KEY_FILES") or ""
        cookie_secure = _flag(environ, "COOKIE_SECURE")
        return cls(
            jwt_issuer=environ.get("JWT_ISSUER") or "todo-faas",
            function_name=environ.get("FC_FUNCTION_NAME") or "todo-faas",
            user_service_url=environ.get("USER_SERVICE_URL") or "http://127.0.0.1:8001",
            todo_service_url=environ.get("TODO_SERVICE_URL") or "http://127.0.0.1:8002",
            jwt_private_key_file=Path(
                environ.get("JWT_PRIVATE_KEY_FILE") or FAAS_DIR / ".data" / "jwt-private-key.pem"
            ),
            jwt_previous_public_key_files=tuple(
                Path(name.strip()) for name in previous.split(",") if name.strip()
            ),
            jwt_ttl_seconds=_number(environ, "JWT_TTL_SECONDS", 900),
            cookie_secure=cookie_secure,
            initialization_timeout=_number(environ, "FC_INITIALIZATION_TIMEOUT", 30, float, 0.1),
            instance_concurrency=_number(environ, "FC_INSTANCE_CONCURRENCY", 8),
            # 0 turns the cache off: every request then asks user-service.
            session_check_cache_seconds=_number(
                environ, "SESSION_CHECK_CACHE_SECONDS", 2, float, 0
            ),
            service_timeout_seconds=_number(environ, "SERVICE_TIMEOUT_SECONDS", 5, float, 0.01),
            service_connect_timeout_seconds=_number(
                environ, "SERVICE_CONNECT_TIMEOUT_SECONDS", 1, float, 0.01
            ),
            static_dir=Path(environ.get("STATIC_DIR") or FAAS_DIR / "static"),
            trusted_proxies=_number(environ, "TRUSTED_PROXIES", 0, int, 0),
            public_url=_public_url(environ, cookie_secure),
        )
