"""A sandbox as a real process on a free port, for tests and benchmarks that talk to it over HTTP.

One place starts, waits for and stops a sandbox, so every suite gets the same behaviour: the sandbox's
own session (a test runner's Ctrl-C does not reach it), readiness when /__admin/clock answers, the
tail of its error output when it dies at start, and SIGKILL when SIGTERM is not enough.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Literal

import httpx

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SandboxDidNotStart(RuntimeError):
    """The sandbox process exited or did not answer in time; the message carries its error output."""


@contextmanager
def running_sandbox(name: Literal["fortnox", "ikas"], *, seed: Literal["demo", "none"] = "demo") -> Iterator[str]:
    """Starts `python -m bridge_sandboxes.<name>` and yields its base URL; stops it on exit."""
    port = free_port()
    # A file, not a pipe: a long-lived sandbox that logs (e.g. dropped connections) must never block on a full pipe.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", f"bridge_sandboxes.{name}", "--port", str(port), "--seed", seed],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(process, url, name, errors)
            yield url
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, name: str, errors: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            errors.seek(0)
            output = errors.read().decode(errors="replace")
            raise SandboxDidNotStart(f"the {name} sandbox exited with {process.returncode}: {output[-2000:]}")
        try:
            if httpx.get(f"{url}/__admin/clock", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SandboxDidNotStart(f"the {name} sandbox did not answer within {START_TIMEOUT_S:g} s")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
