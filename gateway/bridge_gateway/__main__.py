"""`python -m bridge_gateway serve`: the REST API and dashboard on BRIDGE_GATEWAY_PORT until SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

import uvicorn

from bridge_gateway.app import create_app
from bridge_gateway.bootstrap import build
from bridge_gateway.settings import GatewaySettings
from bridge_platform.logs import setup_logging
from bridge_platform.settings import load_settings
from bridge_platform.telemetry import setup_telemetry

log = logging.getLogger("bridge_gateway")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge_gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve HTTP until SIGINT or SIGTERM")
    parser.parse_args(argv)
    settings = load_settings(GatewaySettings)  # exits with code 2 on a bad variable
    setup_logging("gateway", settings.log_level)
    provider = setup_telemetry("bridge-gateway", settings.otel_exporter_otlp_endpoint)
    clients = build(settings)
    app = create_app(settings, clients, tracer_provider=provider)
    # log_config=None keeps uvicorn's logs in our JSON lines.
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.bind_host, port=settings.gateway_port, log_config=None, server_header=False)
    )
    # uvicorn catches SIGINT and SIGTERM, shuts down gracefully, then raises the signal again against the
    # handlers it found: with these, that last step only logs, so the cleanup below runs and we exit 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _note_stop)
    log.info("serving HTTP", extra={"port": settings.gateway_port, "mode": settings.mode.value})
    try:
        server.run()
    finally:
        clients.close()
        provider.shutdown()
    log.info("stopped")
    return 0


def _note_stop(signum: int, _frame: FrameType | None) -> None:
    log.info("shut down on %s", signal.Signals(signum).name)


if __name__ == "__main__":
    sys.exit(main())
