"""The Dockerfile, without a Docker engine: its shape is read, and its builder stage is replayed.

The replay runs the builder stage's COPY and RUN steps on the build context `docker build .` would send
(.dockerignore applied) in a temporary folder, with this machine's Python 3.11 standing in for the base
image; the resulting venv then migrates each service and knows every command the manifests run. What it
cannot prove: the base image itself, the runtime stage's user and file permissions (docker build is
needed for those; deploy/k8s/README.md says how to check them by hand).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.deploy.conftest import Stage

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("libs/protos", "libs/platform", "libs/upstreams", "services/auth", "services/catalog", "services/orders")
SERVICES = ("auth", "catalog", "orders")


def _instructions(stage: Stage, keyword: str) -> list[str]:
    return [rest for instruction, rest in stage.instructions if instruction == keyword]


def test_the_image_is_built_in_two_stages_on_slim_python(stages: list[Stage]) -> None:
    assert [stage.name for stage in stages] == ["builder", "runtime"]
    for stage in stages:
        assert stage.base == "python:3.11-slim", f"{stage.name} must build on the slim Python 3.11 image"


def test_the_builder_generates_the_protos_before_installing_from_constraints(stages: list[Stage]) -> None:
    runs = _instructions(stages[0], "RUN")
    generate = next(index for index, run in enumerate(runs) if "scripts/gen_protos.py" in run)
    install = next(index for index, run in enumerate(runs) if "./libs/protos" in run)
    assert generate < install, "libs/protos/bridge must exist before libs/protos is installed"
    for run in runs:
        if " install " in run:
            assert "-c constraints.txt" in run, f"every pip install is pinned by constraints.txt: {run}"


def test_nothing_is_installed_editable_and_no_test_tools_or_sandboxes(stages: list[Stage]) -> None:
    text = " ".join(rest for stage in stages for _keyword, rest in stage.instructions)
    for forbidden in (" -e ", "--editable", "requirements-dev.txt", "sandboxes", "pytest"):
        assert forbidden not in text, f"the image must not contain {forbidden.strip()!r}"
    install = next(run for run in _instructions(stages[0], "RUN") if "./libs/protos" in run)
    for package in (*PACKAGES, "gateway"):
        assert f"./{package}" in install.split(), f"{package} is not installed into the image"


def test_every_package_with_a_pyproject_is_in_the_image_except_the_sandboxes(stages: list[Stage]) -> None:
    """A new service or library added to the repository must be added to the image too."""
    install = next(run for run in _instructions(stages[0], "RUN") if "./libs/protos" in run).split()
    packages = {
        path.parent.relative_to(ROOT).as_posix()
        for path in ROOT.glob("*/**/pyproject.toml")
        if ".venv" not in path.parts and "build" not in path.parts
    }
    assert packages - {"sandboxes"} == {
        argument.removeprefix("./") for argument in install if argument.startswith("./")
    }


def test_the_runtime_stage_holds_only_the_venv_and_runs_as_a_non_root_user(stages: list[Stage]) -> None:
    runtime = stages[1]
    copies = _instructions(runtime, "COPY")
    assert copies == ["--from=builder /opt/bridge /opt/bridge"], "only the venv comes from the builder"
    assert not [run for run in _instructions(runtime, "RUN") if "pip" in run], "nothing is installed at runtime"
    user = _instructions(runtime, "USER")[-1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), "a numeric USER lets Kubernetes' runAsNonRoot verify it"
    assert int(uid) == 10001
    assert gid == "10001"
    assert "--uid 10001" in " ".join(_instructions(runtime, "RUN"))
    assert json.loads(_instructions(runtime, "ENTRYPOINT")[-1]) == ["python", "-m"], "exec form: signals reach Python"
    environment = " ".join(_instructions(runtime, "ENV"))
    assert "PATH=/opt/bridge/bin:" in environment
    assert "BRIDGE_DATA_DIR=/tmp/" in environment, "the only writable place is the /tmp emptyDir"


def test_the_build_context_holds_the_sources_and_nothing_else(
    build_context: Callable[[Path], list[str]], tmp_path: Path
) -> None:
    copied = build_context(tmp_path)
    tops = {path.split("/")[0] for path in copied}
    assert tops == {"constraints.txt", "protos", "scripts", "libs", "services", "gateway"}
    assert "scripts/gen_protos.py" in copied
    for package in (*PACKAGES, "gateway"):
        assert f"{package}/pyproject.toml" in copied
    for path in copied:
        parts = path.split("/")
        assert "tests" not in parts, path
        assert "__pycache__" not in parts, path
        assert not path.startswith(("libs/protos/bridge/", "sandboxes/", ".venv/", ".data/")), path
        assert not any(part.endswith(".egg-info") for part in parts), path


@dataclass
class Replayed:
    venv: Path
    context: Path


@pytest.fixture(scope="module")
def replayed_builder(
    stages: list[Stage], build_context: Callable[[Path], list[str]], tmp_path_factory: pytest.TempPathFactory
) -> Replayed:
    """Runs the builder stage's COPY, ENV and RUN steps outside Docker; venv paths moved under a temp folder."""
    root = tmp_path_factory.mktemp("image")
    context, workdir = root / "context", root / "src"
    build_context(context)
    # `python` is the base image's Python 3.11; here, the one running the tests.
    shims = root / "bin"
    shims.mkdir()
    (shims / "python").symlink_to(sys.executable)
    environment = {"PATH": f"{shims}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(root)}
    moved: dict[str, str] = {}
    for keyword, rest in stages[0].instructions:
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                if value.startswith("/opt/"):
                    moved[value] = str(root / value.removeprefix("/"))
                    value = moved[value]
                environment[name] = value
        elif keyword == "WORKDIR":
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            source, destination = rest.split()
            target = workdir / destination
            if (context / source).is_dir():
                subprocess.run(["cp", "-a", f"{context / source}/.", str(target)], check=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                subprocess.run(["cp", "-a", str(context / source), str(target)], check=True)
        elif keyword == "RUN":
            done = subprocess.run(
                ["/bin/sh", "-c", rest], cwd=workdir, env=environment, capture_output=True, text=True, timeout=900
            )
            assert done.returncode == 0, f"RUN {rest}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Replayed(Path(moved["/opt/bridge"]), workdir)


def test_the_replayed_builder_generates_the_protos_in_the_build_tree(replayed_builder: Replayed) -> None:
    generated = replayed_builder.context / "libs" / "protos" / "bridge"
    assert (generated / "auth" / "v1" / "auth_pb2_grpc.py").exists()
    assert (generated / "catalog" / "v1" / "catalog_pb2.pyi").exists()


def test_the_replayed_venv_holds_bridge_and_no_tools(replayed_builder: Replayed) -> None:
    python = replayed_builder.venv / "bin" / "python"
    probe = (
        "import importlib.util, json; print(json.dumps({name: importlib.util.find_spec(name) is not None for name in "
        "['bridge', 'bridge_platform', 'bridge_upstreams', 'bridge_auth', 'bridge_catalog', 'bridge_orders', "
        "'bridge_gateway', 'bridge_sandboxes', 'grpc_tools', 'pytest', 'pip']}))"
    )
    found = json.loads(subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert found == {
        "bridge": True,
        "bridge_platform": True,
        "bridge_upstreams": True,
        "bridge_auth": True,
        "bridge_catalog": True,
        "bridge_orders": True,
        "bridge_gateway": True,
        "bridge_sandboxes": False,
        "grpc_tools": False,
        "pytest": False,
        "pip": False,
    }
    where = subprocess.run(
        [python, "-c", "import bridge_auth; print(bridge_auth.__file__)"], capture_output=True, text=True, check=True
    ).stdout
    assert where.startswith(str(replayed_builder.venv)), f"bridge_auth must be installed, not editable: {where}"


@pytest.mark.parametrize("service", SERVICES)
def test_the_replayed_venv_migrates_each_service(replayed_builder: Replayed, service: str, tmp_path: Path) -> None:
    """The migrations (alembic env.py, versions/, script.py.mako) are package data of the installed wheel."""
    python = replayed_builder.venv / "bin" / "python"
    environment = {"PATH": os.environ.get("PATH", ""), "BRIDGE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [python, "-m", f"bridge_{service}", "migrate"], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / f"{service}.db").exists()


def test_the_replayed_venv_offers_every_trigger_the_cronjobs_run(replayed_builder: Replayed) -> None:
    python = replayed_builder.venv / "bin" / "python"
    cronjobs = (ROOT / "deploy" / "k8s" / "base" / "cronjobs").glob("*.yaml")
    import yaml

    for path in cronjobs:
        cronjob = yaml.safe_load(path.read_text())
        args = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        done = subprocess.run(
            [python, "-m", *args[:2], "--help"],
            capture_output=True,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), "BRIDGE_DATA_DIR": str(replayed_builder.context / ".data")},
        )
        assert done.returncode == 0, done.stderr
        assert args[3] in done.stdout, f"{path.name}: {args[0]} trigger does not offer --scope {args[3]}"
