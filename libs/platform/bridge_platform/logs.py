"""Structured logs for every Bridge process: one JSON object per line, secrets redacted.

Redaction is a safety net, not the plan: code never logs tokens or payloads on purpose, and this
filter masks anything that still looks like a credential (bearer tokens, `*token*=`/`*secret*=` pairs).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Final

_SECRET_PATTERNS: Final = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    # `*token`, `*secret`, `*password` keys, and OAuth's `code`, but not `upstream_code` and the like.
    re.compile(r"(?i)\b((?:\w*(?:token|secret|password|api_key)|code)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"),
]
# uvicorn adds `color_message`, a copy of the message with terminal colour codes.
_STANDARD_FIELDS: Final = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_FIELDS and not key.startswith("_"):
                entry[key] = redact(str(value)) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "huey"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
