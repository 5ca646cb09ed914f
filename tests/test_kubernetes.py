"""deploy/kubernetes: every kustomization renders, every resource is valid, checkov finds nothing
it is not told why to skip, and the manifests agree with the code they run and with compose.

Rendered by Debian's kubectl (its built-in kustomize); core kinds validated by
kubernetes-validate against the Kubernetes API's schemas; faas's Knative Service by the schema
of Knative Serving's CRD (@kubernetes-models/knative), and its pod template by the Kubernetes
schemas, strictly, plus Knative's own rules for what a revision may hold.
"""

import json
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from support.containers import (
    ROOT,
    SERVICES,
    Dockerfile,
    code_port,
    compose_config,
    image_sources,
    run_tool,
)
from support.deployment import (
    KNATIVE_SERVICE,
    KUBERNETES,
    KUSTOMIZATIONS,
    env,
    find,
    knative_service,
    pod_spec,
    rendered,
)

KNATIVE_VALIDATOR = ROOT / "tests" / "support" / "validate-knative.mjs"
NPM_TOOLS = ROOT / ".tools" / "npm" / "node_modules"  # deploy/install-tools.sh
# The Kubernetes API the manifests are validated against.
KUBERNETES_VERSION = "1.33.0"
NAMESPACE = "todo-faas"
MICROSERVICES = ("user-service", "todo-service")
MIGRATIONS = {"user-service": "users-migrate", "todo-service": "todos-migrate"}
DATABASE_SECRETS = {"user-service": "users-database", "todo-service": "todos-database"}
DATABASE_PORT = 5432
# What Knative Serving lets a revision's pod hold beyond a plain pod template.
KNATIVE_REVISION_FIELDS = {"containerConcurrency", "timeoutSeconds"}
KNATIVE_VOLUME_KINDS = {"secret", "configMap", "projected", "emptyDir"}
KNATIVE_PORT_NAMES = {"http1", "h2c"}


def workloads(resources) -> list[dict]:
    """Every resource that makes pods: Deployments, Jobs and the Knative Service."""
    kinds = {("apps/v1", "Deployment"), ("batch/v1", "Job"), KNATIVE_SERVICE}
    return [r for r in resources if (r["apiVersion"], r["kind"]) in kinds]


def workload(resources, name: str) -> dict:
    """The resource that makes the pods named `name`."""
    (found,) = [w for w in workloads(resources) if w["metadata"]["name"] == name]
    return found


def service_folder(name: str) -> str:
    """The folder whose code a workload runs: a service's, or the service its migration is for."""
    return next(service for service in SERVICES if name in (service, MIGRATIONS.get(service)))


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def resources(request) -> tuple[dict, ...]:
    return rendered(request.param)


@pytest.fixture(scope="module")
def base() -> tuple[dict, ...]:
    return rendered("base")


def test_every_kustomization_renders_the_whole_system_in_its_namespace(resources):
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    assert {("Deployment", name) for name in MICROSERVICES} <= names
    assert {("Job", name) for name in MIGRATIONS.values()} <= names
    assert ("Service", "faas") in names
    for resource in resources:
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == NAMESPACE, resource["metadata"]["name"]


def test_kubernetes_validate_accepts_every_core_resource_strictly(resources):
    for resource in resources:
        if (resource["apiVersion"], resource["kind"]) == KNATIVE_SERVICE:
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{resource['kind']}/{resource['metadata']['name']}: {error}")


def test_the_knative_service_is_valid_by_knative_servings_crd_schema(resources):
    """@kubernetes-models/knative carries the schema; checked with node (tests/support)."""
    node = shutil.which("node")
    assert node, "node is missing: it runs the Knative schema check (and dclint)"
    services = [r for r in resources if (r["apiVersion"], r["kind"]) == KNATIVE_SERVICE]
    done = subprocess.run(
        [node, str(KNATIVE_VALIDATOR), str(NPM_TOOLS)],
        input=json.dumps(services),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_knative_revision_is_a_valid_pod_template_within_knatives_rules(resources):
    """Strict, unlike the CRD schema, which lets unknown fields through."""
    template = knative_service(resources)["spec"]["template"]
    spec = {k: v for k, v in template["spec"].items() if k not in KNATIVE_REVISION_FIELDS}
    pod_template = {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": "faas"},
        "template": {"metadata": template["metadata"], "spec": spec},
    }
    kubernetes_validate.validate(pod_template, KUBERNETES_VERSION, strict=True)
    (container,) = spec["containers"]
    (port,) = container["ports"]
    assert port["name"] in KNATIVE_PORT_NAMES
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == port["containerPort"], "Knative's only port"
    for volume in spec["volumes"]:
        assert set(volume) - {"name"} <= KNATIVE_VOLUME_KINDS, volume["name"]
    revision = template["spec"]
    assert isinstance(revision["containerConcurrency"], int)
    assert 0 <= revision["containerConcurrency"] <= 1000
    assert isinstance(revision["timeoutSeconds"], int) and revision["timeoutSeconds"] > 0


def test_checkov_fails_no_check_and_every_skipped_check_has_its_reason(tmp_path):
    for kustomization in KUSTOMIZATIONS:
        path = tmp_path / f"{kustomization.replace('/', '-')}.yaml"
        path.write_text(yaml.safe_dump_all(rendered(kustomization)))
    config = KUBERNETES / "checkov.yaml"
    done = run_tool(
        "checkov", "--config-file", str(config), "--quiet", "--compact", "-d", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Failed checks: 0" in done.stdout
    text = config.read_text()
    skipped = yaml.safe_load(text)["skip-check"]
    for check in skipped:
        reason = re.search(rf"((?:\n  # .*)+)\n  - {check}\n", text)
        assert reason, f"{check} is skipped without a reason above it"


@pytest.mark.parametrize("service", SERVICES)
def test_every_image_is_the_image_of_its_service_folder(base, service):
    images = {
        container["image"].rsplit(":", 1)[0]
        for pods in workloads(base)
        for container in pod_spec(pods)["containers"]
        if service_folder(pods["metadata"]["name"]) == service
    }
    assert images == {f"todo-faas/{service}"}


def test_each_container_listens_on_the_port_its_code_binds(resources):
    knative = pod_spec(knative_service(resources))["containers"][0]
    assert knative["ports"][0]["containerPort"] == code_port("faas")
    for service in MICROSERVICES:
        (container,) = pod_spec(find(resources, "Deployment", service))["containers"]
        (port,) = container["ports"]
        assert port["containerPort"] == code_port(service)
        (service_port,) = find(resources, "Service", service)["spec"]["ports"]
        assert service_port["port"] == code_port(service)
        assert service_port["targetPort"] == port["name"]


def test_every_probe_asks_a_route_the_code_serves_readiness_on_readyz_liveness_on_healthz(
    resources,
):
    for service in SERVICES:
        (container,) = pod_spec(workload(resources, service))["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", service
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", service
        sources = image_sources(service)
        for route in ("/readyz", "/healthz"):
            assert f'.get("{route}")' in sources, f"{service} serves no {route}"


def test_faas_serves_no_request_before_its_readyz_says_the_initializer_is_done(resources):
    (container,) = pod_spec(knative_service(resources))["containers"]
    assert container["startupProbe"]["httpGet"]["path"] == "/readyz"


def test_the_cluster_sets_every_variable_compose_sets(resources):
    """The same names reach the same code, but METRICS_PORT (compose sets its default) and
    FC_IDLE_SECONDS: in a pod the runtime keeps its one instance, and Knative releases pods
    after the scale-down delay that FC_IDLE_SECONDS gives it."""
    compose = compose_config()["services"]
    for name in (*SERVICES, *MIGRATIONS.values()):
        (container,) = pod_spec(workload(resources, name))["containers"]
        wanted = set(compose[name]["environment"]) - {"METRICS_PORT", "FC_IDLE_SECONDS"}
        assert wanted <= set(env(container)), name


def test_the_cluster_sets_only_variables_the_code_reads(resources):
    for pods in workloads(resources):
        name = pods["metadata"]["name"]
        sources = image_sources(service_folder(name))
        for container in pod_spec(pods)["containers"]:
            for variable in env(container):
                assert re.search(f"[\"']{variable}[\"']", sources), (
                    f"{name}: nothing reads {variable}"
                )


def test_every_url_names_a_service_of_the_cluster_on_the_port_its_code_binds(resources):
    ports = {name: code_port(name) for name in MICROSERVICES}
    faas_host = f"faas.{NAMESPACE}.svc.cluster.local"  # the Knative Service's own address
    urls = [
        (pods["metadata"]["name"], variable, item["value"])
        for pods in workloads(resources)
        for container in pod_spec(pods)["containers"]
        for variable, item in env(container).items()
        if "://" in item.get("value", "")
    ]
    # faas: 2 service urls; user-service: JWKS_URL; todo-service: JWKS_URL and USER_SERVICE_URL
    assert len(urls) == 5
    for name, variable, url in urls:
        parts = urlsplit(url)
        if parts.hostname == faas_host:
            assert parts.port is None, "Knative serves on port 80"
            assert url.endswith("/.well-known/jwks.json") and variable == "JWKS_URL"
        else:
            assert parts.port == ports[parts.hostname], f"{name}: {url}"


def test_every_database_url_comes_from_the_secret_of_its_service(resources):
    for service, migration in MIGRATIONS.items():
        for name in (service, migration):
            (container,) = pod_spec(workload(resources, name))["containers"]
            secret = env(container)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert secret == {"name": DATABASE_SECRETS[service], "key": "url"}


def test_each_migration_job_runs_alembic_once_in_its_service_image(resources):
    for service, migration in MIGRATIONS.items():
        job = find(resources, "Job", migration)
        (container,) = pod_spec(job)["containers"]
        (service_container,) = pod_spec(find(resources, "Deployment", service))["containers"]
        assert container["command"] == ["alembic", "upgrade", "head"]
        assert container["image"] == service_container["image"]
        assert pod_spec(job)["restartPolicy"] == "Never"


def test_a_rollout_keeps_the_old_pods_until_new_ones_are_ready(resources):
    """New pods are ready only once their schema is at head (/readyz), so the migration Job
    runs before the new version serves."""
    for service in MICROSERVICES:
        strategy = find(resources, "Deployment", service)["spec"]["strategy"]
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_each_service_has_an_autoscaler_and_a_disruption_budget(resources):
    for service in MICROSERVICES:
        deployment = find(resources, "Deployment", service)
        assert "replicas" not in deployment["spec"], "the autoscaler owns the replicas"
        scaler = find(resources, "HorizontalPodAutoscaler", service)["spec"]
        assert scaler["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": service,
        }
        assert 2 <= scaler["minReplicas"] <= scaler["maxReplicas"]
        budget = find(resources, "PodDisruptionBudget", service)["spec"]
        assert budget["selector"] == deployment["spec"]["selector"]
        assert budget["minAvailable"] < scaler["minReplicas"]


def test_every_pod_is_non_root_read_only_without_capabilities_and_bounded(resources):
    for pods in workloads(resources):
        name = pods["metadata"]["name"]
        spec = pod_spec(pods)
        assert spec["automountServiceAccountToken"] is False, name
        user = Dockerfile(service_folder(name)).last("USER").arguments
        uid, gid = (int(n) for n in user.split(":"))
        for container in spec["containers"]:
            context = {**spec.get("securityContext", {}), **container["securityContext"]}
            assert context["runAsNonRoot"] is True, name
            assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid), name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            bounds = container["resources"]
            assert set(bounds["requests"]) == set(bounds["limits"]) == {"cpu", "memory"}
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: gunicorn and the metrics write under /tmp"  # noqa: S108


def test_faas_signs_with_the_key_of_a_secret_shared_by_every_pod(resources):
    spec = pod_spec(knative_service(resources))
    (container,) = spec["containers"]
    key_file = env(container)["JWT_PRIVATE_KEY_FILE"]["value"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    (mount,) = [
        mount
        for mount in container["volumeMounts"]
        if key_file.startswith(mount["mountPath"] + "/")
    ]
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "faas-signing-key"
    assert [item["path"] for item in secret["items"]] == [key_file.rsplit("/", 1)[1]]


def policy_peers(policies: list[dict], direction: str, pod: str) -> list[dict]:
    """The peers of every rule in `direction` ("ingress" or "egress") that applies to `pod`."""
    return [
        {**peer, "ports": rule.get("ports")}
        for policy in policies
        if selects(policy["spec"]["podSelector"], pod)
        for rule in policy["spec"].get(direction, [])
        for peer in rule.get("to" if direction == "egress" else "from", [])
    ]


def selects(selector: dict, pod: str) -> bool:
    if not selector:
        return True
    names = [selector.get("matchLabels", {}).get("app.kubernetes.io/name")]
    for expression in selector.get("matchExpressions", []):
        if expression["key"] == "app.kubernetes.io/name" and expression["operator"] == "In":
            names += expression["values"]
    return pod in names


def test_network_policies_deny_by_default_and_let_only_faas_reach_the_services(resources):
    policies = [r for r in resources if r["kind"] == "NetworkPolicy"]
    deny = find(resources, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    callers = {  # todo-service reads user-service's feed of revoked sessions, as in compose
        "user-service": {"faas", "todo-service"},
        "todo-service": {"faas"},
    }
    for service, allowed in callers.items():
        peers = policy_peers(policies, "ingress", service)
        names = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in peers}
        assert names == allowed, service
        assert all(
            peer["ports"] == [{"protocol": "TCP", "port": code_port(service)}] for peer in peers
        )


def test_only_the_services_and_their_migrations_may_reach_postgresql(resources):
    policies = [r for r in resources if r["kind"] == "NetworkPolicy"]
    pods = (*SERVICES, *MIGRATIONS.values())
    reaching = {
        pod
        for pod in pods
        for peer in policy_peers(policies, "egress", pod)
        if peer["ports"] and any(port["port"] == DATABASE_PORT for port in peer["ports"])
    }
    assert reaching == {*MICROSERVICES, *MIGRATIONS.values()}
    # Nothing may leave faas's pods but calls to the two services and to DNS.
    allowed = [{"app.kubernetes.io/name": name} for name in MICROSERVICES] + [
        {"k8s-app": "kube-dns"}
    ]
    for peer in policy_peers(policies, "egress", "faas"):
        assert peer.get("podSelector", {}).get("matchLabels") in allowed, peer
