# syntax=docker/dockerfile:1
# One image for every Bridge process; the command picks it (ENTRYPOINT is `python -m`):
#   docker run IMAGE bridge_auth serve | bridge_catalog trigger --scope products | bridge_gateway serve
# Build from the repository root: docker build -t bridge:VERSION .   (deploy/k8s/README.md)
# Pin the base image by digest in your registry (python:3.11-slim@sha256:...) for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: generate the gRPC contracts, then install Bridge's packages (not editable) into a venv.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BRIDGE_VENV=/opt/bridge \
    TOOLS_VENV=/opt/tools
WORKDIR /src
COPY constraints.txt ./
COPY protos/ protos/
COPY scripts/gen_protos.py scripts/
COPY libs/ libs/
COPY services/ services/
COPY gateway/ gateway/
# grpcio-tools lives in a throw-away venv: it generates libs/protos/bridge and stays out of the image.
RUN python -m venv "$TOOLS_VENV" \
    && "$TOOLS_VENV/bin/pip" install -c constraints.txt grpcio-tools \
    && "$TOOLS_VENV/bin/python" scripts/gen_protos.py
# Sandboxes and test tools are not installed: constraints.txt pins versions, it adds no packages.
RUN python -m venv "$BRIDGE_VENV" \
    && "$BRIDGE_VENV/bin/pip" install -c constraints.txt \
        ./libs/protos ./libs/platform ./libs/upstreams \
        ./services/auth ./services/catalog ./services/orders ./gateway \
    && "$BRIDGE_VENV/bin/pip" uninstall --yes pip

# --- runtime: the venv and a non-root user, nothing else (no compiler, no sources, no pip).
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --gid 10001 bridge \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin bridge
COPY --from=builder /opt/bridge /opt/bridge
# The root filesystem is read-only in Kubernetes: bytecode was compiled at install time, and the only
# writable place is /tmp (an emptyDir), where BRIDGE_DATA_DIR points.
ENV PATH=/opt/bridge/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BRIDGE_DATA_DIR=/tmp/bridge
WORKDIR /tmp
USER 10001:10001
EXPOSE 8080 50051 50052 50053
ENTRYPOINT ["python", "-m"]
CMD ["bridge_gateway", "serve"]
