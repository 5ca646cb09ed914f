"""What `docker compose up --build --wait` started: one port on the host, hardened containers,
each migration run once to success before its service."""

from compose.project import BUILT, ComposeProject, built_containers, service

MIGRATIONS = {"users-migrate": "user-service", "todos-migrate": "todo-service"}


def published(container: dict) -> list[str]:
    ports = container["NetworkSettings"]["Ports"] or {}
    return [f"{b['HostIp']}:{b['HostPort']}" for bindings in ports.values() for b in bindings or []]


def test_only_faas_has_a_port_on_the_host_on_loopback(project: ComposeProject):
    ports = {service(c): published(c) for c in project.containers(all_states=False)}
    assert ports.pop("faas") == [f"127.0.0.1:{project.port}"]
    assert set(ports) == {"postgres", "user-service", "todo-service"}
    assert all(bindings == [] for bindings in ports.values()), ports


def test_our_containers_run_as_non_root_read_only_without_capabilities(project: ComposeProject):
    containers = built_containers(project)
    assert {service(c) for c in containers} == {*BUILT, *MIGRATIONS}
    for container in containers:
        name = container["Name"]
        assert container["Config"]["User"] == "10001:10001", name
        assert container["HostConfig"]["ReadonlyRootfs"] is True, name
        assert container["HostConfig"]["CapDrop"] == ["ALL"], name
        assert "no-new-privileges:true" in container["HostConfig"]["SecurityOpt"], name


def test_the_running_processes_are_not_root_and_hold_no_capability(project: ComposeProject):
    for container in project.containers(all_states=False):
        if service(container) == "postgres":
            continue
        status = project.exec(container, "cat", "/proc/1/status")
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        assert fields["Uid"].split() == ["10001"] * 4, container["Name"]
        assert int(fields["CapEff"], 16) == 0, container["Name"]


def test_each_migration_ran_once_to_success_in_its_services_image(project: ComposeProject):
    for migrate, owner in MIGRATIONS.items():
        (job,) = project.containers(migrate)
        assert job["State"]["Status"] == "exited" and job["State"]["ExitCode"] == 0
        assert job["RestartCount"] == 0
        assert job["Config"]["Cmd"] == ["alembic", "upgrade", "head"]
        (server,) = project.containers(owner)
        assert job["Image"] == server["Image"], "one image per folder, shared"
        # RFC 3339 times of one clock and one format: their text order is their time order.
        assert job["State"]["FinishedAt"] < server["State"]["StartedAt"], "done before it starts"
