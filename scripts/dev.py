"""Starts Bridge locally, the engine of `make run`: migrates the databases, then runs and supervises every process.

One terminal shows everything: each process's output lines come prefixed with its name. The children run in
their own sessions, so a Ctrl-C reaches this supervisor alone and it decides how they stop: SIGTERM to every
process group, SIGKILL after a grace period, nothing left behind (also when interrupted half-way through
start-up). A child that dies while the stack runs is restarted, a few times a minute at most, as a crash-looping
service would otherwise flood the terminal forever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import IO, Protocol, TextIO

import httpx

from bridge_platform.settings import EXIT_BAD_CONFIGURATION, BridgeSettings, load_settings

READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
MAX_RESTARTS_PER_MINUTE = 5
TICK_S = 0.1
PROBE_INTERVAL_S = 0.5
PROBE_TIMEOUT_S = 1.0
EXIT_FAILED = 1

SERVICES = ("auth", "catalog", "orders")
COLOURS = ("36", "33", "35", "32", "34", "91", "96", "93")  # ANSI: cyan, yellow, magenta, green, blue, ...


class ReadinessCheck(Protocol):
    """Tells whether a started process does its job yet."""

    def problem(self) -> str | None:
        """None when ready, else why not, in words for the terminal."""
        ...


@dataclass(frozen=True)
class HttpOk:
    """Ready when GET answers 200; the gateway's /readyz answers 200 only once every service is reachable."""

    url: str

    def problem(self) -> str | None:
        try:
            response = httpx.get(self.url, timeout=PROBE_TIMEOUT_S)
        except httpx.HTTPError as error:
            return f"GET {self.url} failed: {type(error).__name__}"
        if response.status_code != 200:
            return f"GET {self.url} answered {response.status_code}: {response.text[:200]}"
        return None


@dataclass(frozen=True)
class PortOpen:
    """Ready when the address accepts connections: a gRPC service binds its port once it is built and serving."""

    address: str

    def problem(self) -> str | None:
        host, _, port = self.address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S):
                return None
        except OSError:
            return f"nothing listens on {self.address}"


@dataclass(frozen=True)
class Command:
    """A process to run: its name in the terminal and its argv."""

    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class ProcessSpec(Command):
    """A long-running process of the stack, with the check that says it is up."""

    ready: ReadinessCheck


def migration_commands() -> list[Command]:
    """One `migrate` per service, run one after another before anything serves (`serve` refuses an old schema)."""
    return [Command(service, (sys.executable, "-m", f"bridge_{service}", "migrate")) for service in SERVICES]


@dataclass(frozen=True)
class Sandboxes:
    """Where the local ikas and Fortnox sandboxes listen, when `make run` starts them."""

    fortnox_port: int
    ikas_port: int

    def environment(self) -> dict[str, str]:
        """What points the services at the sandboxes: base URLs only, the product code is the same."""
        fortnox, ikas = f"http://127.0.0.1:{self.fortnox_port}", f"http://127.0.0.1:{self.ikas_port}"
        return {
            "BRIDGE_FORTNOX_API_URL": fortnox,
            "BRIDGE_FORTNOX_AUTH_URL": fortnox,
            "BRIDGE_IKAS_API_URL": ikas,
            "BRIDGE_IKAS_STORE_URL": f"{ikas}/stores/{{store}}",
        }


def sandboxes_for(environ: Mapping[str, str]) -> Sandboxes | None:
    """The sandboxes start only when neither upstream URL is set (product.md §10): set both to use other servers."""
    if "BRIDGE_IKAS_API_URL" in environ or "BRIDGE_FORTNOX_API_URL" in environ:
        return None
    return Sandboxes(
        fortnox_port=int(environ.get("BRIDGE_SANDBOX_FORTNOX_PORT", "8081")),
        ikas_port=int(environ.get("BRIDGE_SANDBOX_IKAS_PORT", "8082")),
    )


def process_specs(settings: BridgeSettings, sandboxes: Sandboxes | None) -> list[ProcessSpec]:
    """Every process of the local stack, in start order; the gateway last, as it is the one that is waited for."""
    python = sys.executable
    upstreams = []
    if sandboxes is not None:  # seeded with the demo store and company, first, so the services find them
        upstreams = [
            ProcessSpec(
                f"{name}-sandbox",
                (python, "-m", f"bridge_sandboxes.{name}", "--port", str(port), "--seed", "demo"),
                HttpOk(f"http://127.0.0.1:{port}/__admin/clock"),
            )
            for name, port in (("fortnox", sandboxes.fortnox_port), ("ikas", sandboxes.ikas_port))
        ]
    services = [
        ProcessSpec(service, (python, "-m", f"bridge_{service}", "serve"), PortOpen(address))
        for service, address in zip(
            SERVICES, (settings.auth_addr, settings.catalog_addr, settings.orders_addr), strict=True
        )
    ]
    gateway = ProcessSpec(
        "gateway", (python, "-m", "bridge_gateway", "serve"), HttpOk(gateway_url(settings, "/readyz"))
    )
    return [*upstreams, *services, gateway]


def gateway_url(settings: BridgeSettings, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{settings.gateway_port}{path}"


def child_environment(
    settings: BridgeSettings, environ: Mapping[str, str], sandboxes: Sandboxes | None
) -> dict[str, str]:
    """The environment passes through unchanged, so children read the very configuration validated here;
    with sandboxes, the upstream base URLs point at them."""
    sandbox_urls = sandboxes.environment() if sandboxes else {}
    return {**environ, **sandbox_urls, "BRIDGE_MODE": settings.mode.value, "PYTHONUNBUFFERED": "1"}


class StopRequest:
    """Records SIGINT, SIGTERM and SIGHUP. The handler only counts: printing or taking a lock inside a signal
    handler could deadlock with the code it interrupted. SIGHUP is included because the children, in their own
    sessions, would outlive a closed terminal otherwise."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.count = 0
        self.last_signal: int | None = None

    def install(self) -> None:
        for signum in self.SIGNALS:
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        self.last_signal = signum

    @property
    def is_requested(self) -> bool:
        return self.count > 0

    def describe(self) -> str:
        return signal.Signals(self.last_signal).name if self.last_signal else "request"


class Console:
    """Serialises lines from every reader thread; prefixes each child's lines with its padded, coloured name."""

    def __init__(self, names: Sequence[str], out: TextIO, err: TextIO) -> None:
        self._out, self._err = out, err
        self._width = max(len(name) for name in names)
        self._colour = out.isatty() and "NO_COLOR" not in os.environ
        self._colours = {name: COLOURS[index % len(COLOURS)] for index, name in enumerate(names)}
        self._lock = threading.Lock()

    def child_line(self, name: str, text: str) -> None:
        prefix = f"{name:<{self._width}} |"
        if self._colour:
            prefix = f"\x1b[{self._colours.get(name, '0')}m{prefix}\x1b[0m"
        self._write(self._out, f"{prefix} {text}")

    def say(self, text: str) -> None:
        """The supervisor's own lines, unprefixed so they stand out."""
        self._write(self._out, f"\x1b[1m{text}\x1b[0m" if self._colour else text)

    def error(self, text: str) -> None:
        self._write(self._err, text)

    def _write(self, stream: TextIO, line: str) -> None:
        with self._lock:
            try:
                stream.write(line + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed terminal or pipe must not stop the supervisor from cleaning up


@dataclass
class Child:
    """One supervised process of the stack: the running instance (if any) and its recent restarts."""

    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)
    restart_at: float = 0.0


class Supervisor:
    """Starts processes in their own sessions, pumps their output, restarts the fallen and stops them all."""

    def __init__(self, console: Console, env: Mapping[str, str], stop: StopRequest) -> None:
        self._console, self._env, self._stop = console, dict(env), stop
        # Every process group ever started and maybe still alive, by its leader (whose pid is the group id).
        self._groups: dict[int, subprocess.Popen[bytes]] = {}
        self._readers: list[threading.Thread] = []

    def spawn(self, command: Command) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            command.argv,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to the supervisor alone; the child leads its own group
        )
        self._groups[process.pid] = process
        assert process.stdout is not None
        reader = threading.Thread(
            target=self._pump, args=(command.name, process.stdout), name=f"{command.name}-output", daemon=True
        )
        reader.start()
        self._readers.append(reader)
        return process

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self._console.child_line(name, raw.decode(errors="replace").rstrip("\r\n"))

    def run_to_completion(self, command: Command) -> int | None:
        """The command's exit code, or None when a stop was requested first (the process is then left to
        `shutdown`, which stops its group)."""
        process = self.spawn(command)
        while (code := process.poll()) is None:
            if self._stop.is_requested:
                return None
            time.sleep(TICK_S)
        self._kill_group(process.pid)  # anything it left behind
        return code

    def start(self, child: Child) -> None:
        child.process = self.spawn(child.spec)

    def tend(self, children: Sequence[Child], now: float) -> str | None:
        """Notices exited children and restarts them after a backoff; returns why to give up, if it must."""
        for child in children:
            name = child.spec.name
            if child.process is None:
                if now >= child.restart_at:
                    self.start(child)
                continue
            code = child.process.poll()
            if code is None:
                continue
            self._kill_group(child.process.pid)
            child.process = None
            while child.restarts and child.restarts[0] < now - 60:
                child.restarts.popleft()
            if len(child.restarts) >= MAX_RESTARTS_PER_MINUTE:
                return f"{name} exited with code {code}, after {MAX_RESTARTS_PER_MINUTE} restarts within a minute"
            backoff_s = min(0.5 * 2 ** len(child.restarts), 8.0)
            self._console.say(f"{name} exited with code {code}; restarting in {backoff_s:g} s")
            child.restarts.append(now)
            child.restart_at = now + backoff_s
        return None

    def shutdown(self) -> None:
        """SIGTERM to every process group, SIGKILL after STOP_GRACE_S (or at once on a second signal)."""
        signals_before = self._stop.count
        self._signal_groups(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while self._live_groups() and time.monotonic() < deadline:
            if self._stop.count > signals_before:
                self._console.say("second stop request: killing everything now")
                break
            time.sleep(TICK_S)
        if self._live_groups():
            self._console.say("some processes did not stop in time; killing them")
            self._signal_groups(signal.SIGKILL)
            deadline = time.monotonic() + 5
            while self._live_groups() and time.monotonic() < deadline:
                time.sleep(TICK_S)
        for reader in self._readers:
            reader.join(timeout=2)

    def _live_groups(self) -> list[int]:
        """Groups with a member left; reaps our own exited children first, as a zombie still counts as a member."""
        for pgid, leader in list(self._groups.items()):
            leader.poll()
            if not _group_exists(pgid):
                del self._groups[pgid]  # forget it, so a recycled id is never signalled
        return sorted(self._groups)

    def _signal_groups(self, signum: signal.Signals) -> None:
        for pgid in self._live_groups():
            _signal_group(pgid, signum)

    def _kill_group(self, pgid: int) -> None:
        _signal_group(pgid, signal.SIGKILL)
        if not _group_exists(pgid):
            self._groups.pop(pgid, None)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def run(
    settings: BridgeSettings,
    sandboxes: Sandboxes | None,
    supervisor: Supervisor,
    console: Console,
    stop: StopRequest,
) -> int:
    """Migrates, starts, waits for readiness and supervises until a stop request or an unrecoverable failure."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    console.say(f"data in {settings.data_dir}")
    for command in migration_commands():
        console.say(f"migrating the {command.name} database")
        code = supervisor.run_to_completion(command)
        if code is None:
            return 0
        if code != 0:
            console.error(
                f"migrating the {command.name} database failed: `python {' '.join(command.argv[1:])}` "
                f"exited with code {code}; Bridge was not started"
            )
            return EXIT_FAILED

    children = [Child(spec) for spec in process_specs(settings, sandboxes)]
    console.say(f"starting {', '.join(child.spec.name for child in children)}")
    for child in children:
        supervisor.start(child)

    gateway = children[-1].spec
    ready_deadline = time.monotonic() + READY_TIMEOUT_S
    is_ready, next_probe = False, 0.0
    while not stop.is_requested:
        now = time.monotonic()
        reason = supervisor.tend(children, now)
        if reason is not None:
            console.error(f"{reason}; stopping Bridge")
            return EXIT_FAILED
        if not is_ready and now >= next_probe:
            if gateway.ready.problem() is None:
                is_ready = True
                if sandboxes is not None:
                    urls = sandboxes.environment()
                    console.say(
                        f"sandboxes: Fortnox at {urls['BRIDGE_FORTNOX_API_URL']}, ikas at {urls['BRIDGE_IKAS_API_URL']}"
                    )
                console.say(
                    f"Bridge is running: dashboard at {gateway_url(settings, '/dev/login?store=demo', 'localhost')}"
                )
            elif now >= ready_deadline and (problems := readiness_problems(children)):
                console.error(f"Bridge was not ready within {READY_TIMEOUT_S:g} s; stopping it")
                for name, problem in problems:
                    console.error(f"  {name} is not ready: {problem}")
                return EXIT_FAILED
            next_probe = time.monotonic() + PROBE_INTERVAL_S
        time.sleep(TICK_S)
    return 0


def readiness_problems(children: Sequence[Child]) -> list[tuple[str, str]]:
    """Which processes are not ready and why; empty when all became ready after all."""
    problems = []
    for child in children:
        problem = "not running" if child.process is None else child.spec.ready.problem()
        if problem is not None:
            problems.append((child.spec.name, problem))
    return problems


def main() -> int:
    stop = StopRequest()
    stop.install()  # before anything starts, so no child can be orphaned by an early Ctrl-C
    settings = load_settings(BridgeSettings)
    if settings.gateway_port == 0:
        print("BRIDGE_GATEWAY_PORT: must be a fixed port to run the stack (got 0)", file=sys.stderr)
        return EXIT_BAD_CONFIGURATION
    sandboxes = sandboxes_for(os.environ)
    names = [command.name for command in [*migration_commands(), *process_specs(settings, sandboxes)]]
    console = Console(names, sys.stdout, sys.stderr)
    supervisor = Supervisor(console, child_environment(settings, os.environ, sandboxes), stop)
    try:
        code = run(settings, sandboxes, supervisor, console, stop)
    finally:
        if stop.is_requested:
            hint = "; Ctrl-C again to kill at once" if stop.last_signal == signal.SIGINT else ""
            console.say(f"stopping Bridge ({stop.describe()}){hint}")
        supervisor.shutdown()  # always, also after an error in this script: no process may be left behind
    console.say("Bridge stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
