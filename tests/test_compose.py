"""docker-compose.yml: the linters find nothing, and the file agrees with the code it runs.

The model is the one `docker compose config` resolves (Docker Compose v2 itself, no engine needed),
so `${VAR:-default}` values are read exactly as `docker compose up` reads them.
"""

import base64
import hashlib
import hmac
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

from support.containers import (
    LIBRARY,
    ROOT,
    SERVICES,
    code_port,
    compose_config,
    image_sources,
    run_tool,
)
from support.databases import postgres_database

POSTGRES_PORT = 5432  # the official image's
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "init-databases.sh"
# Variables whose local default (127.0.0.1, an SQLite file under .data/) is wrong in a container.
REQUIRED = {
    "user-service": {"DATABASE_URL", "JWKS_URL"},
    "todo-service": {"DATABASE_URL", "JWKS_URL", "USER_SERVICE_URL"},
    "users-migrate": {"DATABASE_URL"},
    "todos-migrate": {"DATABASE_URL"},
    "faas": {"USER_SERVICE_URL", "TODO_SERVICE_URL", "JWT_PRIVATE_KEY_FILE"},
}
MIGRATIONS = {"user-service": "users-migrate", "todo-service": "todos-migrate"}
MIGRATION_OF = {migrate: name for name, migrate in MIGRATIONS.items()}


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    return compose_config()["services"]


def database_urls(services: dict[str, dict]) -> dict[str, str]:
    """Each microservice's DATABASE_URL."""
    return {name: services[name]["environment"]["DATABASE_URL"] for name in MIGRATIONS}


def test_dclint_finds_nothing_in_the_compose_file():
    done = run_tool(
        "dclint", "--config", ".dclintrc.yaml", "--max-warnings", "0", "--color", "false",
        "docker-compose.yml",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_docker_compose_accepts_the_file():
    done = run_tool("docker-compose", "-f", "docker-compose.yml", "config", "--quiet")
    assert done.returncode == 0, done.stderr


def test_the_signing_key_can_be_supplied_as_a_compose_secret_instead(tmp_path):
    key = tmp_path / "jwt-private-key.pem"
    merged = compose_config(
        "docker-compose.yml",
        "deploy/compose.signing-key.yml",
        env={"JWT_PRIVATE_KEY_PATH": str(key)},
    )
    faas = merged["services"]["faas"]
    (secret,) = faas["secrets"]
    assert merged["secrets"][secret["source"]]["file"] == str(key)
    assert faas["environment"]["JWT_PRIVATE_KEY_FILE"] == secret["target"]


def test_every_built_service_is_built_from_a_service_folder_with_a_dockerfile(services):
    built = {name for name, service in services.items() if "build" in service}
    assert built == set(SERVICES), "one folder = one image = one compose service"
    for name in built:
        context = Path(services[name]["build"]["context"])
        assert context.name == name and context.parent == ROOT, name
        assert (context / services[name]["build"]["dockerfile"]).is_file(), name
        # The shared library, which each Dockerfile copies `--from=service-kit`.
        contexts = services[name]["build"]["additional_contexts"]
        assert contexts == {LIBRARY: str(ROOT / LIBRARY)}, name
    assert set(services) - built == {"postgres", *MIGRATIONS.values()}


def test_only_faas_publishes_a_port_and_it_is_the_port_faas_listens_on(services):
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"faas"}
    (port,) = services["faas"]["ports"]
    assert port["target"] == code_port("faas")
    assert port["published"] == "9000"
    assert port["host_ip"] == "127.0.0.1", "loopback unless FAAS_BIND_ADDRESS says otherwise"


def test_no_service_has_a_fixed_container_name_so_each_can_scale(services):
    assert [name for name, service in services.items() if "container_name" in service] == []


def test_every_url_names_a_compose_service_on_the_port_that_service_listens_on(services):
    ports = {name: code_port(name) for name in SERVICES} | {"postgres": POSTGRES_PORT}
    urls = [
        (name, value)
        for name, service in services.items()
        for value in service.get("environment", {}).values()
        if "://" in str(value)
    ]
    # 4 DATABASE_URL, 2 JWKS_URL, 2 USER_SERVICE_URL (faas, todo-service), TODO_SERVICE_URL, PUBLIC_URL
    assert len(urls) == 10
    for name, url in urls:
        if url == services["faas"]["environment"]["PUBLIC_URL"]:
            assert urlsplit(url).port == 9000, "PUBLIC_URL names the published port"
            continue
        parts = urlsplit(url)
        assert parts.hostname in ports, f"{name}: {url} names no service"
        assert parts.port == ports[parts.hostname], f"{name}: {url}"


def test_compose_sets_only_variables_the_service_code_reads(services):
    for name, service in services.items():
        if name not in SERVICES and name not in MIGRATIONS.values():
            continue
        sources = image_sources(MIGRATION_OF.get(name, name))
        for variable in service.get("environment", {}):
            assert re.search(f"[\"']{variable}[\"']", sources), f"{name}: nothing reads {variable}"


def test_compose_sets_every_variable_whose_local_default_is_wrong_in_a_container(services):
    for name, variables in REQUIRED.items():
        assert variables <= set(services[name].get("environment", {})), name


def test_each_service_waits_for_a_healthy_database_and_its_finished_migration(services):
    for name, migrate in MIGRATIONS.items():
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy", "required": True},
            migrate: {"condition": "service_completed_successfully", "required": True},
        }
        assert services[migrate]["depends_on"] == {
            "postgres": {"condition": "service_healthy", "required": True}
        }
    assert "healthcheck" in services["postgres"]


def test_each_migrate_service_runs_alembic_once_in_its_service_image_on_its_database(services):
    for name, migrate in MIGRATIONS.items():
        one_shot = services[migrate]
        # The service's image, built once for both: never a build of its own, never pulled.
        assert "build" not in one_shot
        assert one_shot["image"] == services[name]["image"]
        assert (one_shot["pull_policy"], services[name]["pull_policy"]) == ("never", "build")
        assert one_shot["command"] == ["alembic", "upgrade", "head"]
        assert one_shot["restart"] == "no"
        assert one_shot["environment"] == {"DATABASE_URL": database_urls(services)[name]}


def test_faas_starts_after_both_services_are_healthy_and_nothing_waits_for_faas(services):
    assert services["faas"]["depends_on"] == {
        name: {"condition": "service_healthy", "required": True} for name in MIGRATIONS
    }
    assert [
        name for name, service in services.items() if "faas" in service.get("depends_on", {})
    ] == []


def test_the_generated_signing_key_is_kept_on_a_named_volume(services):
    key_folder = str(Path(services["faas"]["environment"]["JWT_PRIVATE_KEY_FILE"]).parent)
    mounts = {mount["target"]: mount for mount in services["faas"]["volumes"]}
    assert mounts[key_folder]["type"] == "volume"


def test_our_containers_are_read_only_with_no_capabilities_and_no_new_privileges(services):
    for name, service in services.items():
        assert "no-new-privileges:true" in service["security_opt"], name
        if name != "postgres":
            assert service["read_only"] is True, name
            assert service["cap_drop"] == ["ALL"], name
            assert service["tmpfs"] == ["/tmp"], name  # noqa: S108 (a mount, not a temp file)
            assert service["restart"] == ("no" if name.endswith("-migrate") else "unless-stopped")


def test_only_the_services_and_their_migrations_share_a_network_with_postgres(services):
    def networks(name: str) -> set[str]:
        return set(services[name]["networks"])

    near_database = {name for name in services if networks(name) & networks("postgres")}
    assert near_database == {"postgres", *MIGRATIONS, *MIGRATIONS.values()}
    assert compose_config()["networks"]["data"]["internal"] is True
    for service in MIGRATIONS:  # faas still reaches both services
        assert networks("faas") & networks(service)


def test_every_container_has_a_memory_and_a_process_limit(services):
    for name, service in services.items():
        assert service.get("mem_limit"), name
        assert 0 < service["pids_limit"] <= 1024, name


def test_every_password_default_is_marked_dev_only():
    defaults = re.findall(r"PASSWORD:-([^}]*)\}", (ROOT / "docker-compose.yml").read_text())
    assert defaults and all(value.endswith("-dev-only") for value in defaults)


def scram_matches(verifier: str, password: str) -> bool:
    """Whether PostgreSQL's SCRAM-SHA-256 verifier was made from `password` (RFC 5802)."""
    iterations_salt, keys = verifier.removeprefix("SCRAM-SHA-256$").split("$")
    iterations, salt = iterations_salt.split(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hmac.compare_digest(server_key, base64.b64decode(keys.split(":")[1]))


def init_script_calls(services: dict[str, dict]) -> list[tuple[str, str]]:
    """The (database name, password) variable pairs the script creates a role and database for."""
    pattern = r'^create_service_database "\$(\w+)" "\$(\w+)"$'
    return re.findall(pattern, INIT_SCRIPT.read_text(), re.MULTILINE)


@pytest.fixture
def initialized(services) -> Iterator[tuple[psycopg2.extensions.connection, dict[str, str]]]:
    """The init script run on the machine's PostgreSQL as the image's entrypoint runs it (as the
    superuser, compose's environment), under throwaway names; a superuser connection, the names."""
    postgres_env = {name: str(value) for name, value in services["postgres"]["environment"].items()}
    renamed = {
        db: f"test_{secrets.token_hex(4)}_{postgres_env[db]}"
        for db, _ in init_script_calls(services)
    }
    with postgres_database() as admin_url:
        admin = urlsplit(admin_url)
        env = {
            **postgres_env,
            **renamed,
            "PATH": "/usr/bin:/bin",
            "PGHOST": admin.hostname,
            "PGPORT": str(admin.port or POSTGRES_PORT),
            "POSTGRES_USER": admin.username,
            "POSTGRES_DB": admin.path.lstrip("/"),
        }
        connection = psycopg2.connect(admin_url.replace("+psycopg2", ""), connect_timeout=5)
        connection.autocommit = True
        try:
            done = subprocess.run(
                ["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            yield connection, renamed
        finally:
            with connection.cursor() as cursor:
                for name in renamed.values():
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    cursor.execute(f'DROP ROLE IF EXISTS "{name}"')
            connection.close()


def test_the_init_script_is_given_the_names_and_passwords_of_the_database_urls(services):
    postgres_env = services["postgres"]["environment"]
    wanted = {(postgres_env[db], postgres_env[pw]) for db, pw in init_script_calls(services)}
    urls = [urlsplit(url) for url in database_urls(services).values()]
    assert wanted == {(url.path.lstrip("/"), url.password) for url in urls}
    assert all(url.username == url.path.lstrip("/") for url in urls), "one role per database"


def test_the_init_script_makes_each_role_the_owner_of_its_database_and_of_nothing_else(
    services, initialized
):
    connection, renamed = initialized
    postgres_env = services["postgres"]["environment"]
    with connection.cursor() as cursor:
        for db, password in init_script_calls(services):
            name = renamed[db]
            cursor.execute(
                "SELECT r.rolcanlogin, r.rolsuper, r.rolpassword, d.datname IS NOT NULL"
                " FROM pg_authid r LEFT JOIN pg_database d"
                " ON d.datdba = r.oid AND d.datname = r.rolname WHERE r.rolname = %s",
                (name,),
            )
            can_login, superuser, verifier, owns_database = cursor.fetchone()
            assert can_login and not superuser and owns_database, name
            assert scram_matches(verifier, postgres_env[password]), f"{name}: another password"
            for other in set(renamed.values()) - {name}:
                cursor.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')", (name, other))
                assert cursor.fetchone() == (False,), f"{name} may connect to {other}"
