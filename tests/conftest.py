"""The cross-service rig: the real stack as processes on free ports, started by scripts/dev.py (`make run`'s engine).

Starting the stack through dev.py, not process by process, means these tests also prove that `make run` works:
migrations, readiness, supervision and shutdown. Every launched stack is killed at teardown, process groups and
all, even when a test fails half-way; Linux's /proc tells which processes belong to a stack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEV_SCRIPT = ROOT / "scripts" / "dev.py"
RUNNING_LINE = "Bridge is running"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick for port 0)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: the sockets stay bound until all are picked, so no port comes twice."""
    with contextlib.ExitStack() as sockets:
        ports = []
        for _ in range(count):
            bound = sockets.enter_context(socket.socket())
            bound.bind(("127.0.0.1", 0))
            ports.append(bound.getsockname()[1])
        return ports


def stack_environment(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The caller's environment minus any Bridge or OpenTelemetry settings, plus a private data dir and free ports."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("BRIDGE_", "OTEL_"))}
    gateway, auth, catalog, orders, fortnox, ikas = free_ports(6)
    env.update(
        BRIDGE_SANDBOX_FORTNOX_PORT=str(fortnox),
        BRIDGE_SANDBOX_IKAS_PORT=str(ikas),
        BRIDGE_MODE="local",
        BRIDGE_DATA_DIR=str(data_dir),
        BRIDGE_GATEWAY_PORT=str(gateway),
        BRIDGE_AUTH_ADDR=f"127.0.0.1:{auth}",
        BRIDGE_CATALOG_ADDR=f"127.0.0.1:{catalog}",
        BRIDGE_ORDERS_ADDR=f"127.0.0.1:{orders}",
    )
    env.update(overrides)
    return env


@dataclass(frozen=True)
class ProcessRef:
    """A process as seen in /proc; the start time tells it apart from a later process that got the same pid."""

    pid: int
    started: int
    cmdline: str

    def is_alive(self) -> bool:
        stat = _stat(self.pid)
        return stat is not None and stat.started == self.started and stat.state not in ("Z", "X")


@dataclass(frozen=True)
class _Stat:
    ppid: int
    state: str
    started: int


def _stat(pid: int) -> _Stat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name in parentheses may contain spaces
    return _Stat(ppid=int(fields[1]), state=fields[0], started=int(fields[19]))


def _read(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _ref(pid: int) -> ProcessRef | None:
    stat = _stat(pid)
    return None if stat is None else ProcessRef(pid, stat.started, _read(pid, "cmdline"))


def descendants(pid: int) -> list[ProcessRef]:
    """Every living process below `pid`, found by walking parent ids (children in other sessions included)."""
    children: dict[int, list[int]] = {}
    for candidate in _all_pids():
        stat = _stat(candidate)
        if stat is not None and stat.state != "Z":
            children.setdefault(stat.ppid, []).append(candidate)
    found, pending = [], list(children.get(pid, []))
    while pending:
        current = pending.pop()
        if (ref := _ref(current)) is not None:
            found.append(ref)
        pending.extend(children.get(current, []))
    return found


def processes_mentioning(text: str) -> list[ProcessRef]:
    """Living processes whose command line or environment contains `text` (a stack's unique data dir)."""
    found = []
    for pid in _all_pids():
        if pid != os.getpid() and (text in _read(pid, "cmdline") or text in _read(pid, "environ")):
            ref = _ref(pid)
            if ref is not None and ref.is_alive():
                found.append(ref)
    return found


@dataclass
class DevProcess:
    """scripts/dev.py running as a subprocess in its own session, its stdout and stderr in one file."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    data_dir: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.env['BRIDGE_GATEWAY_PORT']}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_output(self, text: str, timeout_s: float) -> None:
        """Waits until `text` appears in the output; fails with the output if dev.py exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            if self.process.poll() is not None:
                pytest.fail(f"dev.py exited with {self.process.returncode} before {text!r}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} from dev.py within {timeout_s:g} s:\n{self.output()}")
            time.sleep(0.1)

    def children(self) -> list[ProcessRef]:
        """The supervisor's children and theirs, living."""
        return descendants(self.process.pid)

    def leftovers(self) -> list[ProcessRef]:
        """Living processes that belong to this stack: they use its data dir."""
        return processes_mentioning(str(self.data_dir))

    def wait_for_exit(self, timeout_s: float) -> int:
        """dev.py's exit code; fails with the output if it does not exit in time."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"dev.py did not exit within {timeout_s:g} s:\n{self.output()}")

    def interrupt(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """Ctrl-C: SIGINT to the supervisor; its exit code, or a failure if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.wait_for_exit(timeout_s)

    def kill_everything(self) -> None:
        """The safety net: SIGKILL to the supervisor, everything below it and anything using its data dir."""
        leftovers = {ref.pid for ref in [*self.children(), *self.leftovers()]}
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in leftovers:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


def launch_dev(base_dir: Path, **env_overrides: str) -> DevProcess:
    """Starts scripts/dev.py with a fresh data dir under `base_dir` and free ports; the caller must clean up."""
    data_dir = base_dir / f"bridge-{uuid.uuid4().hex[:12]}"  # unique, so /proc searches find only this stack
    env = stack_environment(data_dir, **env_overrides)
    log_path = base_dir / f"{data_dir.name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(DEV_SCRIPT)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # signals from the test runner's terminal stay with pytest
        )
    return DevProcess(process=process, env=env, data_dir=data_dir, log_path=log_path)


@pytest.fixture
def start_dev(tmp_path: Path) -> Iterator[Callable[..., DevProcess]]:
    """A factory for dev.py runs (keyword arguments are environment overrides), all killed at teardown."""
    launched: list[DevProcess] = []

    def start(**env_overrides: str) -> DevProcess:
        dev = launch_dev(tmp_path, **env_overrides)
        launched.append(dev)
        return dev

    yield start
    for dev in launched:
        dev.kill_everything()


@contextlib.contextmanager
def running_stack(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, interrupt: bool = False, **env_overrides: str
) -> Iterator[DevProcess]:
    """A stack of a module's (or the session's) own, running; `interrupt`: stopped with Ctrl-C (SIGINT) first, as
    a developer stops `make run`. Every process is killed afterwards, whatever happened."""
    dev = launch_dev(tmp_path_factory.mktemp(name), **env_overrides)
    try:
        dev.wait_for_output(RUNNING_LINE, START_TIMEOUT_S)
        yield dev
        if interrupt:
            dev.interrupt()
    finally:
        dev.kill_everything()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """The whole stack, running, shared by the session; stopped with Ctrl-C (SIGINT) at the end."""
    with running_stack(tmp_path_factory, "stack", interrupt=True) as dev:
        yield dev
