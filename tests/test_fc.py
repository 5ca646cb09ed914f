"""The FC settings mean the same thing everywhere: deploy/fc-settings.env holds the local runtime's
defaults, and faas's Knative Service and deploy/fc/s.yaml (Function Compute 3.0, Serverless Devs)
say the same in their own terms. s.yaml is also held to the code it deploys, and the package it
deploys to the library that code imports."""

import ast
import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import PurePosixPath

import pytest

from runtime.config import Config
from support.containers import ROOT, Dockerfile, image_sources
from support.deployment import (
    KUSTOMIZATIONS,
    env,
    fc_settings,
    knative_service,
    pod_spec,
    rendered,
    s_yaml,
)

# Function Compute 3.0's limits for a function.
FC_MEMORY_STEP_MB, FC_MEMORY_RANGE_MB = 64, (128, 32768)
FC_MAX_INSTANCE_CONCURRENCY = 200
FC_MAX_TIMEOUT_SECONDS = 86400
FC_CODE = PurePosixPath("/code")  # where Function Compute puts the code package
# Read by Python itself, not by the function's code.
READ_BY_PYTHON = {"PYTHONPATH"}


def setting(name: str) -> int:
    return int(fc_settings()[name])


def function() -> dict:
    return s_yaml()["resources"]["faas"]


def runtime_reads(name: str) -> bool:
    return f'"{name}"' in (ROOT / "faas" / "runtime" / "config.py").read_text()


@pytest.mark.parametrize("name", sorted(fc_settings()))
def test_each_fc_setting_is_the_local_runtimes_default(name):
    assert runtime_reads(name), f"faas/runtime/config.py does not read {name}"
    default = Config.from_env({})
    given = Config.from_env({name: fc_settings()[name]})
    # pre_stop_optional records only whether FC_PRE_STOP was named, not its value.
    changed = [
        field.name
        for field in dataclasses.fields(Config)
        if getattr(given, field.name) != getattr(default, field.name)
        and field.name != "pre_stop_optional"
    ]
    assert changed == [], f"{name}={fc_settings()[name]} is not the default"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_knative_scales_faas_as_function_compute_counts_instances(kustomization):
    template = knative_service(rendered(kustomization))["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    idle = f"{setting('FC_IDLE_SECONDS')}s"
    assert template["spec"]["containerConcurrency"] == setting("FC_INSTANCE_CONCURRENCY")
    assert annotations == {
        # ceil(in-flight / concurrency) instances: the target is the hard limit, at 100 %.
        "autoscaling.knative.dev/metric": "concurrency",
        "autoscaling.knative.dev/target": str(setting("FC_INSTANCE_CONCURRENCY")),
        "autoscaling.knative.dev/target-utilization-percentage": "100",
        "autoscaling.knative.dev/min-scale": str(setting("FC_MIN_INSTANCES")),
        "autoscaling.knative.dev/max-scale": str(setting("FC_MAX_INSTANCES")),
        "autoscaling.knative.dev/scale-down-delay": idle,
        "autoscaling.knative.dev/scale-to-zero-pod-retention-period": idle,
    }
    assert template["spec"]["timeoutSeconds"] == setting("FC_TIMEOUT")


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_each_knative_pod_runs_one_instance_with_the_fc_settings(kustomization):
    spec = pod_spec(knative_service(rendered(kustomization)))
    (container,) = spec["containers"]
    variables = {name: item["value"] for name, item in env(container).items() if "value" in item}
    # Knative adds and removes pods; inside one, the runtime keeps exactly one instance.
    assert variables["FC_MIN_INSTANCES"] == variables["FC_MAX_INSTANCES"] == "1"
    for name in ("FC_INSTANCE_CONCURRENCY", "FC_INITIALIZATION_TIMEOUT", "FC_TIMEOUT"):
        assert variables[name] == fc_settings()[name], name
    assert variables["FC_MEMORY_SIZE"] == fc_settings()["FC_MEMORY_SIZE"]
    memory = f"{setting('FC_MEMORY_SIZE')}Mi"
    assert container["resources"]["limits"]["memory"] == memory
    # A pod whose initializer has not succeeded within the initialization timeout is restarted.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == setting(
        "FC_INITIALIZATION_TIMEOUT"
    )


def test_function_compute_runs_the_same_entries_with_the_fc_settings():
    props = function()["props"]
    lifecycle = props["instanceLifecycleConfig"]
    assert props["handler"] == fc_settings()["FC_HANDLER"]
    assert lifecycle["initializer"] == {
        "handler": fc_settings()["FC_INITIALIZER"],
        "timeout": setting("FC_INITIALIZATION_TIMEOUT"),
    }
    assert lifecycle["preStop"] == {
        "handler": fc_settings()["FC_PRE_STOP"],
        "timeout": setting("FC_PRE_STOP_TIMEOUT"),
    }
    assert props["instanceConcurrency"] == setting("FC_INSTANCE_CONCURRENCY")
    assert props["timeout"] == setting("FC_TIMEOUT")
    assert props["memorySize"] == setting("FC_MEMORY_SIZE")


def test_function_compute_keeps_the_minimum_provisioned_and_caps_the_maximum():
    commands = [action["run"] for action in function()["actions"]["post-deploy"]]
    (provision,) = [c for c in commands if c.startswith("s provision put ")]
    (concurrency,) = [c for c in commands if c.startswith("s concurrency put ")]
    assert re.search(r"--target (\d+)\b", provision)[1] == fc_settings()["FC_MIN_INSTANCES"]
    # A cap on requests at once: FC_MAX_INSTANCES instances of FC_INSTANCE_CONCURRENCY each.
    reserved = int(re.search(r"--reserved-concurrency (\d+)\b", concurrency)[1])
    assert reserved == setting("FC_MAX_INSTANCES") * setting("FC_INSTANCE_CONCURRENCY")


def test_the_entries_s_yaml_names_are_functions_of_faas_index():
    props = function()["props"]
    code = (ROOT / "deploy" / "fc" / props["code"]).resolve()
    assert code == ROOT / "faas"
    module = ast.parse((code / "index.py").read_text())
    functions = {node.name for node in module.body if isinstance(node, ast.FunctionDef)}
    lifecycle = props["instanceLifecycleConfig"]
    for entry in (props["handler"], *(hook["handler"] for hook in lifecycle.values())):
        file, name = entry.split(".")
        assert file == "index" and name in functions, entry


def test_function_compute_runs_a_python_no_older_than_the_image():
    runtime = re.fullmatch(r"python3\.(\d+)", function()["props"]["runtime"])
    image = Dockerfile("faas").last("FROM").arguments.split(":")[1]
    assert int(runtime[1]) >= int(image.split(".")[1]), "the code needs the image's Python"


def test_the_function_is_given_every_variable_it_needs_and_only_ones_its_code_reads():
    variables = function()["props"]["environmentVariables"]
    assert {"USER_SERVICE_URL", "TODO_SERVICE_URL", "JWT_PRIVATE_KEY_FILE"} <= set(variables)
    sources = image_sources("faas")  # the package holds the library too
    for name, value in variables.items():
        assert isinstance(value, str), f"{name}: Function Compute takes strings only"
        if name not in READ_BY_PYTHON:
            assert re.search(f"[\"']{name}[\"']", sources), f"nothing reads {name}"


def test_s_yaml_is_a_serverless_devs_3_project_within_function_compute_limits():
    assert s_yaml()["edition"] == "3.0.0"
    assert function()["component"] == "fc3"
    props = function()["props"]
    assert {"region", "functionName", "runtime", "code", "handler"} <= set(props)
    low, high = FC_MEMORY_RANGE_MB
    assert props["memorySize"] % FC_MEMORY_STEP_MB == 0 and low <= props["memorySize"] <= high
    assert 1 <= props["instanceConcurrency"] <= FC_MAX_INSTANCE_CONCURRENCY
    assert 1 <= props["timeout"] <= FC_MAX_TIMEOUT_SECONDS
    (trigger,) = props["triggers"]
    assert trigger["triggerType"] == "http"


def test_the_pre_deploy_action_puts_the_shared_library_where_the_function_imports_it(tmp_path):
    """The action runs for real, on copies of faas/ and service-kit/ (a copy of the library a
    previous deploy left in the package included); then the package imports the function with
    the path Function Compute gives it: the package, s.yaml's PYTHONPATH in it, and the venv's
    site-packages standing in for the pins `s build` installs (without site, so without the
    venv's editable install of the library)."""
    props = function()["props"]
    (action,) = function()["actions"]["pre-deploy"]
    code = (ROOT / "deploy" / "fc" / props["code"]).resolve()
    assert (ROOT / "deploy" / "fc" / action["path"]).resolve() == code
    leftovers = shutil.ignore_patterns(
        "tests", "__pycache__", ".data", "python", "build", "*.egg-info"
    )
    for folder in ("faas", "service-kit"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=leftovers)
    package = tmp_path / code.relative_to(ROOT)
    previous = package / "python" / "service_kit"
    previous.mkdir(parents=True)
    (previous / "__init__.py").write_text('raise ImportError("the library of a previous deploy")\n')

    venv_bin = os.path.dirname(sys.executable)  # its python3 runs the action's pip
    done = subprocess.run(
        shlex.split(action["run"]),
        cwd=package,
        env={**os.environ, "PATH": venv_bin + os.pathsep + os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    entries = [PurePosixPath(e) for e in props["environmentVariables"]["PYTHONPATH"].split(":")]
    path = [package, *(package / e.relative_to(FC_CODE) for e in entries)]
    probe = (
        "import sys; sys.path[:0] = sys.argv[1:]; "
        "import index, service_kit; print(service_kit.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, *map(str, path), sysconfig.get_path("purelib")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(package / "python" / "service_kit" / "__init__.py")
