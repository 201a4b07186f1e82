"""scripts/dev.py, the engine of `make run`: it starts everything, restarts what dies and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from tests.conftest import DevProcess, ProcessRef

RUNNING_LINE = "Bridge is running"
SERVED = ("bridge_auth serve", "bridge_catalog serve", "bridge_orders serve", "bridge_gateway serve")

StartDev = Callable[..., "DevProcess"]


def _wait_until(condition: Callable[[], bool], timeout_s: float, what: str, dev: DevProcess) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout_s:g} s; dev.py said:\n{dev.output()}"
        time.sleep(0.2)


def _served(dev: DevProcess, command: str) -> list[ProcessRef]:
    return [ref for ref in dev.children() if command in ref.cmdline]


def _is_ready(dev: DevProcess) -> bool:
    try:
        return httpx.get(f"{dev.base_url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _assert_nothing_left(dev: DevProcess, processes: list[ProcessRef]) -> None:
    alive = [ref for ref in processes if ref.is_alive()]
    assert not alive, f"still running after dev.py exited: {alive}"
    assert not dev.leftovers(), f"processes still use the data dir: {dev.leftovers()}"


def test_ctrl_c_stops_every_process(start_dev: StartDev) -> None:
    dev = start_dev()
    dev.wait_for_output(RUNNING_LINE, 90)
    children = dev.children()
    for command in SERVED:
        assert _served(dev, command), f"no `{command}` among {[ref.cmdline for ref in children]}"
    assert dev.output().count(RUNNING_LINE) == 1

    assert dev.interrupt(timeout_s=20) == 0, dev.output()

    _assert_nothing_left(dev, children)
    assert "stopping" in dev.output()


def test_a_killed_service_is_reported_and_restarted(start_dev: StartDev) -> None:
    dev = start_dev()
    dev.wait_for_output(RUNNING_LINE, 90)
    [catalog] = _served(dev, "bridge_catalog serve")

    os.kill(catalog.pid, signal.SIGKILL)

    dev.wait_for_output("catalog exited with code -9; restarting", 15)
    _wait_until(
        lambda: any(ref.pid != catalog.pid for ref in _served(dev, "bridge_catalog serve")),
        15,
        "a new catalog process",
        dev,
    )
    _wait_until(lambda: _is_ready(dev), 30, "/readyz answering 200 again", dev)
    children = dev.children()
    assert dev.interrupt(timeout_s=20) == 0, dev.output()
    _assert_nothing_left(dev, [catalog, *children])


def test_a_bad_configuration_stops_start_up_with_exit_code_2(start_dev: StartDev) -> None:
    dev = start_dev(BRIDGE_GATEWAY_PORT="abc")

    assert dev.wait_for_exit(timeout_s=30) == 2
    assert any(line.startswith("BRIDGE_GATEWAY_PORT") for line in dev.output().splitlines()), dev.output()
    assert not dev.data_dir.exists(), "nothing may start on a bad configuration"


def test_a_failed_migration_stops_start_up(start_dev: StartDev) -> None:
    dev = start_dev(BRIDGE_CATALOG_DATABASE_URL="nosuchdatabase://nowhere/catalog")

    assert dev.wait_for_exit(timeout_s=60) == 1, dev.output()
    assert "migrating the catalog database failed" in dev.output()
    assert "migrating the orders database" not in dev.output()
    _assert_nothing_left(dev, [])


def test_ctrl_c_during_migration_leaves_nothing_behind(start_dev: StartDev) -> None:
    dev = start_dev()
    dev.wait_for_output("migrating the auth database", 30)

    assert dev.interrupt(timeout_s=20) == 0, dev.output()

    assert RUNNING_LINE not in dev.output()
    _assert_nothing_left(dev, [])


def test_ctrl_c_during_start_up_leaves_nothing_behind(start_dev: StartDev) -> None:
    dev = start_dev()
    dev.wait_for_output("starting ", 60)
    children = dev.children()

    assert dev.interrupt(timeout_s=20) == 0, dev.output()

    _assert_nothing_left(dev, children)
