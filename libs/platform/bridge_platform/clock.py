"""The real clock, shared by every service's composition root (each service's Clock port fits it)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
