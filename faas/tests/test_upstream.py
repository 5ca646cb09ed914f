"""gateway/upstream.py: kept-alive connections, each reused a bounded number of times, so that
replicas behind one name (compose --scale) all get a share of the load."""

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gateway.config import Config
from gateway.upstream import REQUESTS_PER_CONNECTION, Upstream


def test_each_connection_serves_a_bounded_number_of_requests_then_a_new_one_is_made():
    connections: Counter[int] = Counter()

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open between requests

        def do_GET(self):
            connections[self.client_address[1]] += 1  # one client port per TCP connection
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    upstream = Upstream("todo-service", url, Config.from_env({}))
    try:
        for _ in range(3 * REQUESTS_PER_CONNECTION):
            assert upstream.request("GET", "/").status == 200
    finally:
        upstream.close()
        server.shutdown()
        server.server_close()

    assert sorted(connections.values()) == [REQUESTS_PER_CONNECTION] * 3, "kept alive, then renewed"
