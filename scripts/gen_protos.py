"""Generates the Python contracts (bridge.*) from protos/ into libs/protos/; the only code generator.

The generated tree mirrors protos/, so imports read `from bridge.catalog.v1 import catalog_pb2`.
Nothing generated is committed: `make` runs this before installing libs/protos.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "libs" / "protos"


def main() -> int:
    generated = OUT / "bridge"
    if generated.exists():
        shutil.rmtree(generated)
    sources = sorted(str(path.relative_to(PROTOS)) for path in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"  # google/protobuf/*.proto shipped with grpcio-tools
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTOS}",
            f"-I{include}",
            f"--python_out={OUT}",
            f"--grpc_python_out={OUT}",
            f"--pyi_out={OUT}",
            *sources,
        ]
    )
    if status != 0:
        print(f"protoc failed with status {status}", file=sys.stderr)
        return status
    for folder in [generated, *(path for path in generated.rglob("*") if path.is_dir())]:
        (folder / "__init__.py").touch()
    (generated / "py.typed").touch()
    print(f"generated {len(sources)} proto files into {OUT.relative_to(ROOT)}/bridge")
    return 0


if __name__ == "__main__":
    sys.exit(main())
