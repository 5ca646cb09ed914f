"""gateway/health.py: liveness, readiness (initializer done, both services ready), no metrics."""

import pytest
from flask import Flask

from gateway import wait_until_ready
from support.processes import free_port
from support.wsgi import WsgiServer


def test_healthz_answers_while_the_services_are_down(make_gateway):
    app = make_gateway(USER_SERVICE_URL=f"http://127.0.0.1:{free_port()}")

    response = app.test_client().get("/healthz")

    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_is_200_once_initialised_with_both_services_ready(gateway: Flask):
    response = gateway.test_client().get("/readyz")

    assert response.status_code == 200


def test_readyz_is_503_until_the_initializer_has_finished(make_gateway):
    response = make_gateway().test_client().get("/readyz")

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["detail"] == "not ready"


def test_readyz_is_503_when_a_service_stops_being_ready_naming_it_only_in_the_log(
    make_gateway, gateway_stack, caplog
):
    with WsgiServer(gateway_stack.todo_service.app) as todo_service:
        app = make_gateway(TODO_SERVICE_URL=todo_service.url)
        wait_until_ready(app, 5)
        todo_service.app = None  # from now on it answers 503

        response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["detail"] == "not ready"
    [logged] = [r for r in caplog.records if r.getMessage() == "not ready"]
    assert any("todo-service" in reason for reason in logged.fields["reasons"])
    assert not any("user-service" in reason for reason in logged.fields["reasons"])


def test_waiting_for_an_unreachable_service_fails_in_time_naming_it(make_gateway):
    app = make_gateway(USER_SERVICE_URL=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(RuntimeError, match="user-service") as failure:
        wait_until_ready(app, 0.5)

    assert "todo-service" not in str(failure.value)
    assert app.test_client().get("/readyz").status_code == 503


def test_this_app_serves_no_metrics(gateway: Flask):
    # The runtime serves /metrics on METRICS_PORT; the public port must not.
    assert gateway.test_client().get("/metrics").status_code == 404
