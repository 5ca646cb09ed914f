"""service_kit: the one copy of every part that faas, user-service and todo-service share.

- serving/: the hardened gthread worker (worker.py, framing.py, connections.py) that all three
  run under gunicorn, the sum of the workers' metrics files, and the microservices' gunicorn
  settings;
- web/: HTTP conventions: problem+json errors, X-Request-ID and one JSON log line per request;
- tokens/: a microservice's token checks: faas's keys (keys.py), the revoked sessions
  (revocations.py), the verifier and the require_* decorators (auth.py);
- health.py, metrics.py, db.py, settings.py: a microservice's /healthz, /readyz and /metrics,
  its database session and migrations, and the settings every microservice reads.

It knows no service: what differs (audience, scopes, settings, migrations) is passed in.
Importing it does no I/O.
"""
