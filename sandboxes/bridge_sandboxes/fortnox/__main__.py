"""`python -m bridge_sandboxes.fortnox --port P [--host H] [--seed demo|none]` (demo is the default)."""

from __future__ import annotations

import argparse

from bridge_sandboxes.common import ASGIApp, Controls, serve
from bridge_sandboxes.fortnox.app import create_app
from bridge_sandboxes.fortnox.seed import seed_demo
from bridge_sandboxes.fortnox.state import FortnoxState


def build(arguments: argparse.Namespace) -> ASGIApp:
    state = FortnoxState(controls=Controls())
    if arguments.seed == "demo":
        seed_demo(state)
    return create_app(state)


if __name__ == "__main__":
    serve("fortnox", build)
