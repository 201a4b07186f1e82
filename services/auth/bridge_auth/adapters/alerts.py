"""Alerts for connections that need the merchant (product.md §1.4): a structured log line, the
OpenTelemetry counter `bridge.connection.needs_reauth`, and an e-mail to the merchant, sent through
BRIDGE_SMTP_URL when set, or in local mode written as a .eml file into <data dir>/outbox/."""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from opentelemetry import metrics

from bridge_auth.domain.connections import Upstream
from bridge_auth.domain.tenants import Tenant

log = logging.getLogger(__name__)

SENDER = "Bridge <no-reply@bridge.invalid>"
_NAMES = {Upstream.FORTNOX: "Fortnox", Upstream.IKAS: "ikas"}


class MailAlerts:
    def __init__(self, *, smtp_url: str | None, outbox: Path | None, public_url: str) -> None:
        self._smtp_url, self._outbox, self._public_url = smtp_url, outbox, public_url
        self._counter = metrics.get_meter("bridge.auth").create_counter(
            "bridge.connection.needs_reauth", description="connections that must be authorized again"
        )

    def needs_reauth(self, tenant: Tenant, upstream: Upstream) -> None:
        log.warning(
            "connection needs to be authorized again",
            extra={"alert": "needs_reauth", "tenant_id": tenant.id, "upstream": upstream.value},
        )
        self._counter.add(1, {"upstream": upstream.value})
        if not tenant.contact_email:
            log.info("no merchant e-mail address known; no alert mail", extra={"tenant_id": tenant.id})
            return
        message = self._message(tenant, upstream)
        try:
            self._send(message)
        except (OSError, smtplib.SMTPException) as error:
            log.warning(
                "could not send the alert e-mail", extra={"tenant_id": tenant.id, "error": type(error).__name__}
            )

    def _message(self, tenant: Tenant, upstream: Upstream) -> EmailMessage:
        name = _NAMES[upstream]
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = tenant.contact_email or ""
        message["Subject"] = f"Bridge: reconnect {name} for {tenant.store_name}"
        message.set_content(
            f"Bridge can no longer reach {name} for your store {tenant.store_name}: the authorization has ended.\n"
            f"Syncing with {name} is paused; nothing is lost. Open Bridge in the ikas admin and connect {name} "
            f"again ({self._public_url}), and the paused work continues.\n"
        )
        return message

    def _send(self, message: EmailMessage) -> None:
        if self._smtp_url:
            parts = urlsplit(self._smtp_url)
            secure = parts.scheme == "smtps"
            port = parts.port or (465 if secure else 25)
            smtp = (
                smtplib.SMTP_SSL(parts.hostname or "", port, timeout=10)
                if secure
                else smtplib.SMTP(parts.hostname or "", port, timeout=10)
            )
            with smtp:
                if parts.scheme == "smtp+starttls":
                    smtp.starttls()
                if parts.username:
                    smtp.login(unquote(parts.username), unquote(parts.password or ""))
                smtp.send_message(message)
            return
        if self._outbox is not None:
            self._outbox.mkdir(parents=True, exist_ok=True)
            (self._outbox / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
