"""What the cluster and Function Compute tests read: the kustomizations rendered by Debian's
kubectl (deploy/install-tools.sh puts it in .tools/), deploy/fc/s.yaml, and the FC settings of
deploy/fc-settings.env that both must agree with."""

from functools import cache

import yaml

from support.containers import ROOT, run_tool

KUBERNETES = ROOT / "deploy" / "kubernetes"
KUSTOMIZATIONS = ("base", "overlays/local")
FC_SETTINGS = ROOT / "deploy" / "fc-settings.env"
S_YAML = ROOT / "deploy" / "fc" / "s.yaml"
KNATIVE_SERVICE = ("serving.knative.dev/v1", "Service")


@cache
def rendered(kustomization: str) -> tuple[dict, ...]:
    """The resources `kubectl kustomize` makes of deploy/kubernetes/<kustomization>."""
    done = run_tool("kubectl", "kustomize", str(KUBERNETES / kustomization))
    assert done.returncode == 0, done.stderr
    return tuple(resource for resource in yaml.safe_load_all(done.stdout) if resource)


def find(resources: tuple[dict, ...], kind: str, name: str) -> dict:
    (found,) = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def knative_service(resources: tuple[dict, ...], name: str = "faas") -> dict:
    (found,) = [
        r
        for r in resources
        if (r["apiVersion"], r["kind"]) == KNATIVE_SERVICE and r["metadata"]["name"] == name
    ]
    return found


def pod_spec(resource: dict) -> dict:
    """The pod template's spec of a Deployment, a Job or a Knative Service."""
    return resource["spec"]["template"]["spec"]


def env(container: dict) -> dict[str, dict]:
    """The container's variables by name: {"value": ...} or {"valueFrom": ...}."""
    return {item["name"]: item for item in container.get("env", [])}


@cache
def fc_settings() -> dict[str, str]:
    """deploy/fc-settings.env as NAME -> value."""
    lines = FC_SETTINGS.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): value.strip() for name, value in pairs}


@cache
def s_yaml() -> dict:
    return yaml.safe_load(S_YAML.read_text())
