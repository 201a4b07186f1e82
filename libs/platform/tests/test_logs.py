"""Structured logs never carry credentials, even when a message does by mistake."""

from __future__ import annotations

import json
import logging

from bridge_platform.logs import JsonFormatter, redact


def test_bearer_tokens_and_secret_pairs_are_redacted() -> None:
    text = "Authorization: Bearer eyJhbGciOi.abc.def refresh_token=r-123&client_secret=s3cr3t {'access_token': 'a-1'}"

    cleaned = redact(text)

    for secret in ("eyJhbGciOi", "r-123", "s3cr3t", "a-1"):
        assert secret not in cleaned
    assert cleaned.count("[redacted]") == 4


def test_a_record_is_one_json_object_with_its_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"msg": "run %s done", "args": ("r1",), "levelname": "INFO", "name": "x", "tenant_id": "t1"}
    )

    entry = json.loads(JsonFormatter("catalog").format(record))

    assert (entry["message"], entry["service"], entry["level"], entry["tenant_id"]) == (
        "run r1 done",
        "catalog",
        "info",
        "t1",
    )


def test_codes_that_are_not_oauth_codes_stay_readable() -> None:
    assert (
        redact("fortnox upstream_code=2000428 service_token=abc")
        == "fortnox upstream_code=2000428 service_token=[redacted]"
    )
