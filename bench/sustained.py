"""A long run through faas above its thread count while the services' keys refresh, with the
JWKS sampled meanwhile: no request may fail, and the keys must stay reachable."""

import threading
import time
from dataclasses import asdict

import requests

from bench.wrk import Target, run_wrk

JWKS_SAMPLE_SECONDS = 0.05  # one JWKS fetch this often while the load runs


def sustained_load(target: Target, jwks_url: str, connections: int, seconds: int) -> dict:
    """wrk on the proxied page for `seconds`; the JWKS's answer times (ms) and failures."""
    done = threading.Event()
    latencies: list[float] = []
    failures: list[str] = []

    def sample() -> None:
        with requests.Session() as http:
            while not done.wait(JWKS_SAMPLE_SECONDS):
                started = time.perf_counter()
                try:
                    status = http.get(jwks_url, timeout=10).status_code
                except requests.RequestException as error:
                    failures.append(type(error).__name__)
                    continue
                latencies.append(1000 * (time.perf_counter() - started))
                if status != 200:
                    failures.append(str(status))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        load = run_wrk(target.url, connections, seconds, target.headers)
    finally:
        done.set()
        sampler.join()
    return {"load": asdict(load), "jwks_ms": latencies, "jwks_failures": failures}
