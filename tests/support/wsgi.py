"""A WSGI app served over real HTTP on a free 127.0.0.1 port, from a background thread.

The app may be given later (`server.app = app`), or swapped while serving: apps that need each
other's URL (faas and the services that fetch its JWKS) start their servers first. Until an
app is set, or after it is set to None, the server answers 503.
"""

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import make_server

from support.serving import serve_in_background


class WsgiServer:
    def __init__(self, app: Callable[..., Iterable[bytes]] | None = None):
        self.app = app
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = serve_in_background(self._server)

    def _dispatch(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"no app yet"]
        return self.app(environ, start_response)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "WsgiServer":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
