"""What both sandboxes share: a movable clock, the call log, injected faults, a sliding-window rate
limit, the /__admin/ API that controls them, and the command line that serves a sandbox.

Faults are applied by an ASGI middleware around the sandbox's real routes, so what a client sees is
what a real network would do to it:
- `status`: answer at once with a status and body; the request is NOT processed (a 429, a 503);
- `delay`: process the request at once, then hold the answer back (the client may time out while
  the write has happened);
- `drop_after`: process the request, then send the headers and half the body and drop the
  connection (the write happened, the client never learns it);
- `malformed`: process the request, then answer 200 with a body that is not valid JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SandboxClock:
    """Real time plus an offset that tests move forward (token expiry, refresh-token lifetime, lastmodified)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> datetime:
        self.offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        self.offset = timedelta()


@dataclass(frozen=True)
class Call:
    """One request the sandbox answered (admin calls are not logged)."""

    at: str
    method: str
    path: str
    query: str
    status: int
    key: str | None  # the company or store the request acted for, when known
    fault: str | None


class CallLog:
    """The most recent calls, for tests that count calls per entity or check what was sent."""

    def __init__(self, size: int = 20_000) -> None:
        self._calls: deque[Call] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def list(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


class Fault(BaseModel):
    """One injected fault; it applies to the next `times` requests matching method, path and key."""

    kind: Literal["status", "delay", "drop_after", "malformed"]
    method: str | None = None  # e.g. "POST"; None matches any
    path: str = ".*"  # a regular expression searched in the path
    key: str | None = None  # only requests for this company or store
    times: int = Field(1, ge=1)
    status: int = 503
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    delay_s: float = 0.0

    def matches(self, method: str, path: str, key: str | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and re.search(self.path, path) is not None
            and (self.key is None or self.key == key)
        )


class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str, key: str | None) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path, key):
                    if fault.times == 1:
                        del self._faults[index]
                    else:
                        self._faults[index] = fault.model_copy(update={"times": fault.times - 1})
                    return fault
        return None

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class SlidingWindowLimit:
    """At most `limit` requests per key in any `window_s` seconds (Fortnox: 25 per 5 s per token/tenant)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window_s:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True

    def configure(self, limit: int, window_s: float) -> None:
        with self._lock:
            self.limit, self.window_s = limit, window_s
            self._seen.clear()


@dataclass
class Controls:
    """The knobs of one sandbox that /__admin/ turns."""

    clock: SandboxClock = field(default_factory=SandboxClock)
    calls: CallLog = field(default_factory=CallLog)
    faults: FaultPlan = field(default_factory=FaultPlan)
    limit: SlidingWindowLimit | None = None


async def _send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class SandboxMiddleware:
    """Applies faults and the rate limit to every non-admin request and logs it."""

    def __init__(
        self,
        app: ASGIApp,
        controls: Controls,
        *,
        key_of: Callable[[Scope], str | None],
        too_many_requests: Callable[[], bytes],
    ) -> None:
        self._app, self._controls = app, controls
        self._key_of, self._too_many_requests = key_of, too_many_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await self._app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        key = self._key_of(scope)
        status_seen: list[int] = []

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
            await send(message)

        fault = self._controls.faults.take(method, path, key)
        limit = self._controls.limit
        try:
            if key is not None and limit is not None and not limit.admit(key):
                await _send_json(logged_send, 429, self._too_many_requests())
            elif fault is None:
                await self._app(scope, receive, logged_send)
            elif fault.kind == "status":
                body = fault.body if isinstance(fault.body, (bytes, str)) else _json_bytes(fault.body)
                await _send_json(
                    logged_send, fault.status, body.encode() if isinstance(body, str) else body, fault.headers
                )
            elif fault.kind == "delay":  # the work happens now; the answer comes late (a slow upstream)
                captured = _Captured()
                await self._app(scope, receive, captured.send)
                await asyncio.sleep(fault.delay_s)
                await captured.replay(logged_send)
            elif fault.kind == "malformed":
                await self._app(scope, receive, _discard)
                await _send_json(logged_send, 200, b'{"truncated": ')
            else:  # drop_after: the work is done, the answer never arrives whole
                captured = _Captured()
                await self._app(scope, receive, captured.send)
                status_seen.append(captured.status)
                await send({"type": "http.response.start", "status": captured.status, "headers": captured.headers})
                await send(
                    {"type": "http.response.body", "body": captured.body[: len(captured.body) // 2], "more_body": True}
                )
                raise ConnectionAbortedError("sandbox fault: connection dropped after the request was processed")
        finally:
            self._controls.calls.record(
                Call(
                    at=self._controls.clock.now().isoformat(),
                    method=method,
                    path=path,
                    query=scope.get("query_string", b"").decode(errors="replace"),
                    status=status_seen[0] if status_seen else 0,
                    key=key,
                    fault=fault.kind if fault else None,
                )
            )


async def _discard(_message: Message) -> None:
    return None


class _Captured:
    def __init__(self) -> None:
        self.status, self.body = 500, b""
        self.headers: list[tuple[bytes, bytes]] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status, self.headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def replay(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def _json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value if value is not None else {}).encode()


class ClockChange(BaseModel):
    advance_s: float = Field(ge=0)


class RateLimitChange(BaseModel):
    limit: int = Field(ge=1)
    window_s: float = Field(gt=0)


def admin_router(
    controls: Controls,
    *,
    reset: Callable[[], None],
    seed: Callable[[dict[str, Any]], Any],
    state: Callable[[], Any],
) -> APIRouter:
    """The /__admin/ API: reset, seed, inspect state and calls, inject faults, move the clock, scale the limit."""
    router = APIRouter(prefix="/__admin", tags=["admin"])

    @router.post("/reset")
    def reset_all() -> dict[str, str]:
        controls.clock.reset()  # first: a reset that reseeds stamps its records with the real time
        controls.calls.clear()
        controls.faults.clear()
        reset()
        return {"status": "reset"}

    @router.post("/seed")
    def seed_data(body: dict[str, Any]) -> Any:
        return seed(body)

    @router.get("/state")
    def dump_state() -> Any:
        return state()

    @router.get("/calls")
    def list_calls() -> list[dict[str, Any]]:
        return [asdict(call) for call in controls.calls.list()]

    @router.delete("/calls")
    def clear_calls() -> dict[str, str]:
        controls.calls.clear()
        return {"status": "cleared"}

    @router.post("/faults")
    def add_fault(fault: Fault) -> list[Fault]:
        controls.faults.add(fault)
        return controls.faults.list()

    @router.get("/faults")
    def list_faults() -> list[Fault]:
        return controls.faults.list()

    @router.delete("/faults")
    def clear_faults() -> dict[str, str]:
        controls.faults.clear()
        return {"status": "cleared"}

    @router.get("/clock")
    def read_clock() -> dict[str, str]:
        return {"now": controls.clock.now().isoformat()}

    @router.post("/clock")
    def move_clock(change: ClockChange) -> dict[str, str]:
        return {"now": controls.clock.advance(change.advance_s).isoformat()}

    @router.post("/rate-limit")
    def scale_rate_limit(change: RateLimitChange) -> dict[str, float]:
        if controls.limit is None:
            controls.limit = SlidingWindowLimit(change.limit, change.window_s)
        else:
            controls.limit.configure(change.limit, change.window_s)
        return {"limit": controls.limit.limit, "window_s": controls.limit.window_s}

    return router


def serve(name: str, build: Callable[[argparse.Namespace], FastAPI | ASGIApp]) -> None:
    """`python -m bridge_sandboxes.<name> --port P [--host H] [--seed demo|none]`."""
    parser = argparse.ArgumentParser(prog=f"python -m bridge_sandboxes.{name}")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", choices=["demo", "none"], default="demo")
    arguments = parser.parse_args()
    uvicorn.run(build(arguments), host=arguments.host, port=arguments.port, log_level="warning")
