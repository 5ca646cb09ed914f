"""Servers of the tests, run from a background thread."""

import socketserver
import threading

# How often serve_forever looks for a shutdown: the default half second was a wait in every
# teardown that closed a server.
POLL_SECONDS = 0.05


def serve_in_background(server: socketserver.BaseServer) -> threading.Thread:
    """Starts serving from a daemon thread; server.shutdown() returns within POLL_SECONDS."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True
    )
    thread.start()
    return thread
