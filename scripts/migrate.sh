#!/bin/sh
# Brings each service's own database to the latest migration, as `make run` needs before serving.
set -eu
cd "$(dirname "$0")/.."
(cd user-service && DATABASE_URL="${USERS_DATABASE_URL:-}" ../.venv/bin/alembic upgrade head)
(cd todo-service && DATABASE_URL="${TODOS_DATABASE_URL:-}" ../.venv/bin/alembic upgrade head)
