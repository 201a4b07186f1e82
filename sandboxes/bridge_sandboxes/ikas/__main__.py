"""`python -m bridge_sandboxes.ikas --port P [--host H] [--seed demo|none]`."""

from bridge_sandboxes.common import serve
from bridge_sandboxes.ikas.app import build

if __name__ == "__main__":
    serve("ikas", build)
