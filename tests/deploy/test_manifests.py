"""deploy/k8s without a cluster: every kustomization builds, validates against the Kubernetes schemas,
passes yamllint, and agrees with the code it runs (commands, ports, configuration, security).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.deploy.conftest import Build, Stage

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BUILD_NAMES = ("base", "dev", "prod", "dev+otel", "prod+otel")  # conftest.BUILDS
DEPLOYABLE = tuple(name for name in BUILD_NAMES if name != "base")
# The oldest Kubernetes the manifests support (native gRPC probes, CronJob timeZone: GA in 1.27; the
# restricted Pod Security Standard) and a recent one; kubernetes-validate ships both schemas offline.
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
SERVICES = ("auth", "catalog", "orders")
IMAGE_USER = 10001


def _instruction(stage: Stage, keyword: str) -> str:
    return next(rest for instruction, rest in stage.instructions if instruction == keyword)


def _run_module(args: list[str], environment: dict[str, str] | None = None) -> str:
    """`python -m <args> --help` on the installed packages: the image's ENTRYPOINT (`python -m`) plus args."""
    done = subprocess.run(
        [sys.executable, "-m", *args, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=environment,
    )
    assert done.returncode == 0, f"`python -m {' '.join(args)} --help` failed:\n{done.stderr}"
    return done.stdout


def _choices(help_text: str, option: str) -> set[str]:
    """The choices argparse prints for `option` ("" for the sub-commands)."""
    found = re.search((re.escape(option) + " " if option else "") + r"\{([^}]*)\}", help_text)
    return set(found.group(1).split(",")) if found else set()


def _clean_environment(extra: dict[str, str]) -> dict[str, str]:
    """Only what Kubernetes would set, plus PATH and HOME so Python starts: no BRIDGE_* from the test runner."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")} | extra


# --- building and validating ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILD_NAMES)
def test_every_kustomization_builds(builds: dict[str, Build], name: str) -> None:
    kinds = {item["kind"] for item in builds[name].objects}
    assert {"Deployment", "Service", "ServiceAccount", "Job", "CronJob", "ConfigMap"} <= kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", BUILD_NAMES)
def test_every_object_validates_against_the_kubernetes_schema(
    builds: dict[str, Build], name: str, version: str
) -> None:
    import kubernetes_validate  # type: ignore[import-untyped]

    problems = []
    for item in builds[name].objects:
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{item['kind']}/{item['metadata']['name']}: {error.message} at {list(error.path)}")
    assert not problems, "\n".join(problems)


def test_the_example_secrets_validate() -> None:
    import kubernetes_validate
    import yaml

    for item in yaml.safe_load_all((DEPLOY / "k8s" / "secrets.example.yaml").read_text()):
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(item, version, strict=True)


def test_yamllint_passes_on_deploy() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-c", str(DEPLOY / ".yamllint"), str(DEPLOY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- security -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILD_NAMES)
def test_every_container_is_non_root_read_only_and_limited(builds: dict[str, Build], name: str) -> None:
    for owner, template in builds[name].pod_templates():
        where = f"{name}: {owner['kind']}/{owner['metadata']['name']}"
        pod = template["spec"]
        pod_security = pod.get("securityContext", {})
        assert pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        assert pod.get("automountServiceAccountToken") is False, f"{where}: no pod needs the Kubernetes API"
        for container in pod.get("initContainers", []) + pod["containers"]:
            security = pod_security | container.get("securityContext", {})
            at = f"{where} container {container['name']}"
            assert security.get("runAsNonRoot") is True, at
            assert security.get("runAsUser", 0) != 0, at
            assert security.get("readOnlyRootFilesystem") is True, at
            assert security.get("allowPrivilegeEscalation") is False, at
            assert "ALL" in security.get("capabilities", {}).get("drop", []), at
            assert not security.get("capabilities", {}).get("add"), at
            assert not security.get("privileged"), at
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{at}: {bound}"


@pytest.mark.parametrize("name", BUILD_NAMES)
def test_bridge_containers_run_as_the_image_user_with_a_writable_tmp(
    builds: dict[str, Build], stages: list[Stage], name: str
) -> None:
    assert _instruction(stages[-1], "USER").split(":")[0] == str(IMAGE_USER)
    for owner, pod, container in builds[name].bridge_containers():
        at = f"{name}: {owner['kind']}/{owner['metadata']['name']}"
        assert (pod["securityContext"] | container["securityContext"])["runAsUser"] == IMAGE_USER, at
        tmp = next(mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp")
        volume = next(volume for volume in pod["volumes"] if volume["name"] == tmp["name"])
        assert "emptyDir" in volume, f"{at}: /tmp is the only writable place (BRIDGE_DATA_DIR)"


# --- the services and the gateway -------------------------------------------------------------------------


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_every_grpc_service_has_native_grpc_probes_on_the_port_of_its_address(
    builds: dict[str, Build], name: str
) -> None:
    build = builds[name]
    for service in SERVICES:
        deployment = build.named("Deployment", service)
        assert deployment is not None, f"{name}: no Deployment {service}"
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [f"bridge_{service}", "serve"]
        address = build.environment(container)[f"BRIDGE_{service.upper()}_ADDR"]
        host, _, port = address.rpartition(":")
        assert host == service, f"{address}: other pods reach {service} through its Service"
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == int(port), f"{name}: {service} {probe}"
            assert container[probe]["grpc"].get("service", "") == "", "the health service answers for ''"
        assert {"name": "grpc", "containerPort": int(port)} in container["ports"]
        kubernetes_service = build.named("Service", service)
        assert kubernetes_service is not None
        assert kubernetes_service["spec"]["ports"][0]["port"] == int(port)
        assert kubernetes_service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_the_gateway_has_http_probes_and_an_ingress(builds: dict[str, Build], name: str) -> None:
    build = builds[name]
    deployment = build.named("Deployment", "gateway")
    assert deployment is not None
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["bridge_gateway", "serve"]
    port = int(build.environment(container)["BRIDGE_GATEWAY_PORT"])
    assert {"name": "http", "containerPort": port} in container["ports"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    ingress = build.named("Ingress", "gateway")
    assert ingress is not None
    public_host = build.environment(container)["BRIDGE_PUBLIC_URL"].removeprefix("https://")
    assert ingress["spec"]["rules"][0]["host"] == public_host, "OAuth callbacks are built from BRIDGE_PUBLIC_URL"


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_serving_never_migrates_and_each_service_has_a_migration_job(builds: dict[str, Build], name: str) -> None:
    build = builds[name]
    for owner, _pod, container in build.bridge_containers():
        if owner["kind"] in ("Deployment", "StatefulSet"):
            assert container["args"][1] == "serve", f"{owner['metadata']['name']}: only Jobs migrate"
    migrations = {tuple(c["args"]) for owner, _pod, c in build.bridge_containers() if owner["kind"] == "Job"}
    assert migrations == {(f"bridge_{service}", "migrate") for service in SERVICES}


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_every_service_has_a_disruption_budget(builds: dict[str, Build], name: str) -> None:
    budgets = {item["metadata"]["name"]: item for item in builds[name].of_kind("PodDisruptionBudget")}
    for service in (*SERVICES, "gateway"):
        deployment = builds[name].named("Deployment", service)
        assert deployment is not None
        assert budgets[service]["spec"]["selector"] == deployment["spec"]["selector"]


def test_prod_runs_several_replicas_and_scales_the_gateway(builds: dict[str, Build]) -> None:
    prod, dev = builds["prod"], builds["dev"]
    for service in SERVICES:
        assert (prod.named("Deployment", service) or {})["spec"]["replicas"] >= 2
        assert (dev.named("Deployment", service) or {})["spec"]["replicas"] == 1
    gateway = prod.named("Deployment", "gateway") or {}
    assert "replicas" not in gateway["spec"], "the HPA owns the gateway's replica count"
    autoscaler = prod.named("HorizontalPodAutoscaler", "gateway") or {}
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert autoscaler["spec"]["minReplicas"] >= 2


def test_dev_runs_its_own_databases_and_redis_and_prod_does_not(builds: dict[str, Build]) -> None:
    for service in SERVICES:
        assert builds["dev"].named("StatefulSet", f"{service}-postgres") is not None
        assert builds["prod"].named("StatefulSet", f"{service}-postgres") is None
    assert builds["dev"].named("Deployment", "redis") is not None
    assert builds["prod"].named("Deployment", "redis") is None


# --- CronJobs -------------------------------------------------------------------------------------------------


def _cronjob_commands(build: Build) -> list[tuple[dict[str, Any], list[str]]]:
    return [
        (owner, container["args"]) for owner, _pod, container in build.bridge_containers() if owner["kind"] == "CronJob"
    ]


@pytest.mark.parametrize("name", BUILD_NAMES)
def test_every_cronjob_forbids_overlap_and_is_bounded(builds: dict[str, Build], name: str) -> None:
    cronjobs = builds[name].of_kind("CronJob")
    assert cronjobs
    for cronjob in cronjobs:
        at = f"{name}: CronJob/{cronjob['metadata']['name']}"
        spec = cronjob["spec"]
        assert spec["concurrencyPolicy"] == "Forbid", at
        assert spec["startingDeadlineSeconds"] > 0, at
        assert spec["successfulJobsHistoryLimit"] >= 1, at
        assert spec["failedJobsHistoryLimit"] >= 1, at
        job = spec["jobTemplate"]["spec"]
        assert job["activeDeadlineSeconds"] > 0, at
        assert job["backoffLimit"] >= 0, at
        assert job["template"]["spec"]["restartPolicy"] == "Never", at


def test_every_cronjob_runs_a_real_trigger_and_outlives_its_rpc_deadline(builds: dict[str, Build]) -> None:
    """The command of each CronJob is `python -m bridge_<svc> trigger --scope S` (the image's ENTRYPOINT plus
    args) where S is one of the scopes the service's CLI offers; its deadline exceeds the CLI's RPC deadline."""
    import importlib

    build = builds["prod"]
    seen = set()
    for owner, args in _cronjob_commands(build):
        module, command, option, scope = args
        assert (command, option) == ("trigger", "--scope"), args
        container = next(c for _o, _p, c in build.bridge_containers() if _o is owner)
        environment = _clean_environment(build.environment(container))
        scopes = _choices(_run_module([module, "trigger"], environment), "--scope")
        assert scope in scopes, f"CronJob {owner['metadata']['name']}: {module} trigger offers {scopes}, not {scope}"
        rpc_deadline_s = getattr(importlib.import_module(f"{module}.entrypoints.cli"), "JOB_DEADLINE_S", None)
        if rpc_deadline_s is not None:
            assert owner["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] > rpc_deadline_s
        seen.add((module, scope))
    assert {("bridge_catalog", "products"), ("bridge_catalog", "stock"), ("bridge_orders", "orders")} <= seen
    assert {("bridge_auth", "refresh-tokens"), ("bridge_auth", "purges")} <= seen


def test_every_scheduled_job_of_every_service_has_a_cronjob(builds: dict[str, Build]) -> None:
    """The other direction: a scope a service's `trigger` offers runs from a CronJob in production (local mode
    runs them itself)."""
    scheduled = {(args[0], args[3]) for _owner, args in _cronjob_commands(builds["prod"])}
    for service in SERVICES:
        commands = _choices(_run_module([f"bridge_{service}"]), "")
        if "trigger" not in commands:
            continue
        for scope in _choices(_run_module([f"bridge_{service}", "trigger"]), "--scope"):
            assert (f"bridge_{service}", scope) in scheduled, (
                f"no CronJob runs bridge_{service} trigger --scope {scope}"
            )


def test_every_command_the_manifests_run_exists(builds: dict[str, Build], stages: list[Stage]) -> None:
    """Containers set only args: the image's ENTRYPOINT `python -m` runs `<module> <command>`."""
    assert json.loads(_instruction(stages[-1], "ENTRYPOINT")) == ["python", "-m"]
    commands: dict[str, set[str]] = {}
    for name in DEPLOYABLE:
        for _owner, _pod, container in builds[name].bridge_containers():
            assert "command" not in container, "the command comes from the image's ENTRYPOINT"
            commands.setdefault(container["args"][0], set()).add(container["args"][1])
    assert set(commands) == {"bridge_auth", "bridge_catalog", "bridge_orders", "bridge_gateway"}
    for module, used in commands.items():
        offered = _choices(_run_module([module]), "")
        assert used <= offered, f"{module} offers {offered}, the manifests run {used}"


# --- configuration --------------------------------------------------------------------------------------------

# Where each process runs, from bridge-config: BridgeSettings refuses production without BRIDGE_PUBLIC_URL, and
# every process calls the services by address and writes only below the /tmp emptyDir.
CONFIGURATION_FOR_EVERY_PROCESS = (
    "BRIDGE_MODE",
    "BRIDGE_PUBLIC_URL",
    "BRIDGE_DATA_DIR",
    "BRIDGE_AUTH_ADDR",
    "BRIDGE_CATALOG_ADDR",
    "BRIDGE_ORDERS_ADDR",
)
OAUTH_CLIENTS = frozenset(
    {"BRIDGE_IKAS_CLIENT_ID", "BRIDGE_IKAS_CLIENT_SECRET", "BRIDGE_FORTNOX_CLIENT_ID", "BRIDGE_FORTNOX_CLIENT_SECRET"}
)
TOKEN = frozenset({"BRIDGE_SERVICE_TOKEN"})
# The credentials each process uses, as the code reads them; a container gets exactly these from its Secrets.
# - Every process: the service token (BridgeSettings requires it in production; every RPC carries it).
# - `serve` and `migrate` of a service: its own database; `serve` also its ServiceDefinition.requires (auth: the
#   vault key), which service_main checks before the command (test_the_credentials_cover_what_the_code_demands).
# - auth's server: the OAuth clients (install, consent and token refresh: bridge_auth.bootstrap through
#   bridge_upstreams.wiring.ikas_oauth/fortnox_oauth), SMTP (merchant alerts) and the rate budget of its ikas
#   and Fortnox calls; no run queue (auth runs no jobs).
# - The catalog's and the orders service's servers: the run queue and the rate budget; their ikas and Fortnox
#   tokens come from auth over gRPC (GrpcTokenSource), never from the OAuth clients.
# - The gateway and every trigger: nothing else, they only call the services over gRPC.
CREDENTIALS: dict[tuple[str, str], frozenset[str]] = {
    ("bridge_auth", "serve"): TOKEN
    | OAUTH_CLIENTS
    | {"BRIDGE_AUTH_DATABASE_URL", "BRIDGE_VAULT_KEY", "BRIDGE_SMTP_URL", "BRIDGE_RATE_BUDGET_URL"},
    ("bridge_auth", "migrate"): TOKEN | {"BRIDGE_AUTH_DATABASE_URL"},
    ("bridge_auth", "trigger"): TOKEN,
    ("bridge_catalog", "serve"): TOKEN | {"BRIDGE_CATALOG_DATABASE_URL", "BRIDGE_QUEUE_URL", "BRIDGE_RATE_BUDGET_URL"},
    ("bridge_catalog", "migrate"): TOKEN | {"BRIDGE_CATALOG_DATABASE_URL"},
    ("bridge_catalog", "trigger"): TOKEN,
    ("bridge_orders", "serve"): TOKEN | {"BRIDGE_ORDERS_DATABASE_URL", "BRIDGE_QUEUE_URL", "BRIDGE_RATE_BUDGET_URL"},
    ("bridge_orders", "migrate"): TOKEN | {"BRIDGE_ORDERS_DATABASE_URL"},
    ("bridge_orders", "trigger"): TOKEN,
    ("bridge_gateway", "serve"): TOKEN,
}
DATABASE_URLS = {f"BRIDGE_{service.upper()}_DATABASE_URL" for service in SERVICES}


def _process(container: dict[str, Any]) -> tuple[str, str]:
    module, command = container["args"][:2]
    return str(module), str(command)


def _service_definition(service: str) -> Any:
    """The ServiceDefinition the service's CLI runs (a module constant, or built by `definition()`)."""
    import importlib

    from bridge_platform.service_main import ServiceDefinition

    cli = importlib.import_module(f"bridge_{service}.entrypoints.cli")
    constants = [value for value in vars(cli).values() if isinstance(value, ServiceDefinition)]
    return constants[0] if constants else cli.definition()


def test_the_credentials_cover_what_the_code_demands(monkeypatch: pytest.MonkeyPatch) -> None:
    """What BridgeSettings and service_main refuse production without (asked of the code, with nothing set but
    the mode and public URL) is in CREDENTIALS for that process, so the table cannot fall behind the code."""
    from pydantic import ValidationError

    from bridge_platform.service_main import required_settings
    from bridge_platform.settings import BridgeSettings

    for variable in [name for name in os.environ if name.startswith(("BRIDGE_", "OTEL_"))]:
        monkeypatch.delenv(variable)
    public_url = "https://bridge.example.com"
    with pytest.raises(ValidationError) as refused:
        BridgeSettings(mode="production", public_url=public_url)
    every_process = set(re.findall(r"(BRIDGE_[A-Z_]+): required", str(refused.value)))
    assert every_process == {"BRIDGE_SERVICE_TOKEN"}
    for process, credentials in CREDENTIALS.items():
        assert every_process <= credentials, process
    bare = BridgeSettings(mode="production", public_url=public_url, service_token="token")
    for service in SERVICES:
        definition = _service_definition(service)
        for command in ("serve", "migrate"):
            needed = {
                line.split(":")[0] for line in bare.missing_for_production(required_settings(definition, command))
            }
            assert needed, f"{service}: {command} must check its own database"
            assert needed <= CREDENTIALS[(f"bridge_{service}", command)], (service, command, needed)


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_every_container_is_handed_exactly_the_credentials_its_process_uses(
    builds: dict[str, Build], name: str
) -> None:
    build = builds[name]
    seen = set()
    for owner, _pod, container in build.bridge_containers():
        at = f"{name}: {owner['kind']}/{owner['metadata']['name']}"
        process = _process(container)
        handed = build.credentials(container)
        assert set(handed) == CREDENTIALS[process], f"{at} ({' '.join(process)}) is handed {sorted(handed)}"
        seen.add(process)
    assert seen == set(CREDENTIALS), "every process of the table runs somewhere"
    # No credential travels in the ConfigMap instead (every Bridge container reads it).
    every_credential = set().union(*CREDENTIALS.values())
    for config_map in build.of_kind("ConfigMap"):
        assert not every_credential & set(config_map.get("data", {})), f"{name}: {config_map['metadata']['name']}"


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_no_pod_holds_another_services_database_and_only_auth_holds_the_vault_key(
    builds: dict[str, Build], name: str
) -> None:
    build = builds[name]
    for owner, _pod, container in build.bridge_containers():
        at = f"{name}: {owner['kind']}/{owner['metadata']['name']}"
        module, command = _process(container)
        handed = build.credentials(container)
        own = {f"BRIDGE_{module.removeprefix('bridge_').upper()}_DATABASE_URL"}
        assert DATABASE_URLS & set(handed) <= own, at
        if "BRIDGE_VAULT_KEY" in handed:
            assert (module, command) == ("bridge_auth", "serve"), at
        if owner["kind"] == "CronJob" or module == "bridge_gateway":
            assert set(handed.values()) == {"bridge-service-token"}, f"{at}: only the service token"


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_every_container_gets_what_production_needs(builds: dict[str, Build], name: str) -> None:
    for owner, _pod, container in builds[name].bridge_containers():
        environment = builds[name].environment(container)
        needed = (*CONFIGURATION_FOR_EVERY_PROCESS, *sorted(CREDENTIALS[_process(container)]))
        missing = [variable for variable in needed if not environment.get(variable)]
        assert not missing, f"{name}: {owner['kind']}/{owner['metadata']['name']} lacks {missing}"
        assert environment["BRIDGE_MODE"] == "production"


# Loads the settings as the process would and, for `serve` and `migrate`, runs the check service_main runs
# before them (service_main.required_settings); prints what the process ends up with.
SETTINGS_CHECK = """
import json, sys
from bridge_platform.settings import BridgeSettings, load_settings
from bridge_gateway.settings import GatewaySettings
module, command = sys.argv[1], sys.argv[2]
settings = load_settings(GatewaySettings if module == "bridge_gateway" else BridgeSettings)
missing = []
if module != "bridge_gateway" and command in ("serve", "migrate"):
    import importlib
    from bridge_platform.service_main import ServiceDefinition, required_settings
    cli = importlib.import_module(module + ".entrypoints.cli")
    found = [value for value in vars(cli).values() if isinstance(value, ServiceDefinition)]
    definition = found[0] if found else cli.definition()
    missing = settings.missing_for_production(required_settings(definition, command))
try:
    vault_keys = len(settings.vault_keys())
except ValueError:
    vault_keys = None
print(json.dumps({
    "mode": settings.mode.value,
    "missing": missing,
    "queue_url": settings.queue_url,
    "rate_budget_url": settings.rate_budget_url,
    "vault_keys": vault_keys,
    "service_token": bool(settings.service_token_value()),
    "database_urls": {
        "auth": settings.auth_database_url,
        "catalog": settings.catalog_database_url,
        "orders": settings.orders_database_url,
    },
    "ikas_client_id": settings.ikas_client_id,
    "fortnox_client_id": settings.fortnox_client_id,
    "smtp": settings.smtp_url is not None,
    "data_dir": str(settings.data_dir),
}))
"""


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_each_rendered_environment_loads_as_valid_production_settings(builds: dict[str, Build], name: str) -> None:
    """ConfigMap plus Secrets (generated, or the example's placeholders) through BridgeSettings in a fresh
    process, as each container would load them: exit code 0, nothing its command requires missing, and the
    process has what it uses and nothing of the others' (no database but its own, no vault key outside auth)."""
    checked: dict[tuple[str, str, str], dict[str, Any]] = {}
    for owner, _pod, container in builds[name].bridge_containers():
        environment = builds[name].environment(container)
        module, command = _process(container)
        key = (module, command, json.dumps(environment, sort_keys=True))
        if key in checked:
            continue
        done = subprocess.run(
            [sys.executable, "-c", SETTINGS_CHECK, module, command],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            env=_clean_environment(environment),
        )
        at = f"{name}: {owner['kind']}/{owner['metadata']['name']}"
        assert done.returncode == 0, f"{at}: settings refused:\n{done.stderr}"
        assert "required" not in done.stderr, f"{at}: {done.stderr}"
        loaded = json.loads(done.stdout)
        assert loaded["mode"] == "production"
        assert loaded["missing"] == [], f"{at}: `{command}` would refuse to start: {loaded['missing']}"
        assert loaded["service_token"], at
        assert loaded["data_dir"].startswith("/tmp/"), f"{at}: the data dir must be on the /tmp emptyDir"
        service = module.removeprefix("bridge_")
        own_database = command in ("serve", "migrate") and service in SERVICES
        for database, url in loaded["database_urls"].items():
            if own_database and database == service:
                assert url.startswith("postgresql://"), at
            else:
                assert url == "", f"{at}: holds the {database} database URL"
        uses_vault = (module, command) == ("bridge_auth", "serve")
        assert (loaded["vault_keys"] or 0) >= 1 if uses_vault else loaded["vault_keys"] is None, at
        if command == "serve" and service in SERVICES:
            assert loaded["rate_budget_url"], f"{at}: the rate budget must be shared (Redis)"
            if service != "auth":
                assert loaded["queue_url"], f"{at}: the run queue must be shared (Redis)"
        if (module, command) == ("bridge_auth", "serve"):
            assert "bridge-local" not in (loaded["ikas_client_id"], loaded["fortnox_client_id"]), at
            assert loaded["smtp"], f"{at}: merchant alerts need SMTP"
        checked[key] = loaded
    assert {(module, command) for module, command, _ in checked} == set(CREDENTIALS)


def test_the_example_secrets_are_placeholders(example_secret_values: dict[str, dict[str, str]]) -> None:
    for name, values in example_secret_values.items():
        for key, value in values.items():
            assert "REPLACE-ME" in value or key == "BRIDGE_VAULT_KEY", f"{name}.{key} looks like a real value"
    vault_key = example_secret_values["bridge-vault-key"]["BRIDGE_VAULT_KEY"]
    assert base64.b64decode(vault_key).startswith(b"REPLACE-ME"), "the example vault key must be a placeholder"


def test_the_example_secrets_are_the_ones_the_manifests_reference(
    builds: dict[str, Build], example_secret_values: dict[str, dict[str, str]]
) -> None:
    """prod takes every Secret from the example (nothing is generated there); no example Secret goes unused."""
    referenced = set()
    for _owner, _pod, container in builds["prod"].bridge_containers():
        referenced |= set(builds["prod"].credentials(container).values())
    assert not builds["prod"].of_kind("Secret"), "prod generates no Secret: the operator creates them"
    assert referenced == set(example_secret_values)


def test_the_otel_component_wires_the_collector(builds: dict[str, Build]) -> None:
    for name in ("dev+otel", "prod+otel"):
        build = builds[name]
        assert build.named("Deployment", "otel-collector") is not None
        for _owner, _pod, container in build.bridge_containers():
            assert build.environment(container)["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    for name in ("dev", "prod"):
        for _owner, _pod, container in builds[name].bridge_containers():
            assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in builds[name].environment(container)


# --- network policies ---------------------------------------------------------------------------------------


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def _admits(rules: list[dict[str, Any]], peer_key: str, peer: dict[str, str], port: int) -> bool:
    for rule in rules:
        ports = rule.get("ports")
        if ports and not any(entry.get("port") == port for entry in ports):
            continue
        peers = rule.get(peer_key)
        if not peers:
            return True
        for entry in peers:
            if "ipBlock" in entry or entry.get("namespaceSelector"):
                continue  # other namespaces and addresses: never a pod of this namespace
            if _selects(entry.get("podSelector", {}), peer):
                return True
    return False


def _may_connect(build: Build, source: dict[str, str], target: dict[str, str], port: int) -> bool:
    """NetworkPolicy semantics within one namespace: the source's egress and the target's ingress must both allow."""
    policies = build.of_kind("NetworkPolicy")

    def allowed(pod: dict[str, str], direction: str, peer_key: str, peer: dict[str, str]) -> bool:
        selecting = [
            policy
            for policy in policies
            if _selects(policy["spec"]["podSelector"], pod) and direction in policy["spec"]["policyTypes"]
        ]
        if not selecting:
            return True
        return any(_admits(policy["spec"].get(direction.lower(), []), peer_key, peer, port) for policy in selecting)

    return allowed(source, "Egress", "to", target) and allowed(target, "Ingress", "from", source)


def _pod(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "bridge",
    }


@pytest.mark.parametrize(
    ("source", "target", "port", "expected"),
    [
        (_pod("gateway", "server"), _pod("auth", "server"), 50051, True),
        (_pod("gateway", "server"), _pod("catalog", "server"), 50052, True),
        (_pod("gateway", "server"), _pod("orders", "server"), 50053, True),
        (_pod("gateway", "server"), _pod("auth-postgres", "database"), 5432, False),
        (_pod("gateway", "server"), _pod("redis", "cache"), 6379, False),
        (_pod("catalog", "server"), _pod("auth", "server"), 50051, True),
        (_pod("orders", "server"), _pod("auth", "server"), 50051, True),
        (_pod("auth", "server"), _pod("catalog", "server"), 50052, True),
        (_pod("auth", "server"), _pod("orders", "server"), 50053, True),
        (_pod("catalog", "server"), _pod("orders", "server"), 50053, False),
        (_pod("orders", "server"), _pod("catalog", "server"), 50052, True),
        (_pod("orders", "trigger"), _pod("orders", "server"), 50053, True),
        (_pod("orders", "trigger"), _pod("catalog", "server"), 50052, False),
        (_pod("catalog", "server"), _pod("catalog-postgres", "database"), 5432, True),
        (_pod("catalog", "server"), _pod("auth-postgres", "database"), 5432, False),
        (_pod("catalog", "server"), _pod("redis", "cache"), 6379, True),
        (_pod("auth", "migration"), _pod("auth-postgres", "database"), 5432, True),
        (_pod("auth", "migration"), _pod("orders-postgres", "database"), 5432, False),
        (_pod("catalog", "trigger"), _pod("catalog", "server"), 50052, True),
        (_pod("catalog", "trigger"), _pod("auth", "server"), 50051, False),
        (_pod("catalog", "trigger"), _pod("catalog-postgres", "database"), 5432, False),
        (_pod("auth", "trigger"), _pod("auth", "server"), 50051, True),
        (_pod("auth", "trigger"), _pod("auth-postgres", "database"), 5432, False),
        (_pod("orders", "server"), _pod("gateway", "server"), 8080, False),
    ],
)
def test_network_policies_allow_exactly_the_calls_bridge_makes(
    builds: dict[str, Build], source: dict[str, str], target: dict[str, str], port: int, expected: bool
) -> None:
    assert _may_connect(builds["dev"], source, target, port) is expected


def test_network_policies_deny_by_default_and_allow_dns(builds: dict[str, Build]) -> None:
    for name in ("dev", "prod"):
        deny = builds[name].named("NetworkPolicy", "default-deny") or {}
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = builds[name].named("NetworkPolicy", "allow-dns") or {}
        assert {"port": 53, "protocol": "UDP"} in dns["spec"]["egress"][0]["ports"]
    anywhere = {"app.kubernetes.io/name": "unknown"}
    assert not _may_connect(builds["dev"], anywhere, _pod("auth", "server"), 50051)
