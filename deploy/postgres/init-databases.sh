#!/bin/sh
# Run once by the postgres image's entrypoint, on an empty data volume (docker-entrypoint-initdb.d):
# one role and one database per service, each role owning its database and nothing else.
# Names and passwords come from the environment docker-compose.yml gives the postgres container.
# Changing a password later needs `ALTER ROLE`, or a fresh volume (`docker compose down -v`).
set -eu

create_service_database() {
    # psql quotes the values itself (:"name" as an identifier, :'password' as a literal).
    psql --no-psqlrc --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="${POSTGRES_DB:-$POSTGRES_USER}" \
        --set=name="$1" --set=password="$2" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
}

create_service_database "$USERS_DB" "$USERS_DB_PASSWORD"
create_service_database "$TODOS_DB" "$TODOS_DB_PASSWORD"
