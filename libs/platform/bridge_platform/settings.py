"""Configuration from the environment (product.md §10), shared by every Bridge process.

Every variable has a local-mode default, so `make run` needs none. A bad value stops start-up with
one line per bad variable, naming it, and exit code 2 (`load_settings`).
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EXIT_BAD_CONFIGURATION = 2


class Mode(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


def _address(value: str) -> str:
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port")
    return value


class BridgeSettings(BaseSettings):
    """All of Bridge's configuration; each process reads the part it needs."""

    model_config = SettingsConfigDict(env_prefix="BRIDGE_", case_sensitive=False, extra="ignore")

    mode: Mode = Mode.LOCAL
    gateway_port: int = Field(8080, ge=0, le=65535)
    public_url: str = ""
    data_dir: Path = Path(".data")
    auth_database_url: str = ""
    catalog_database_url: str = ""
    orders_database_url: str = ""
    auth_addr: str = "127.0.0.1:50051"
    catalog_addr: str = "127.0.0.1:50052"
    orders_addr: str = "127.0.0.1:50053"
    service_token: SecretStr | None = None
    vault_key: SecretStr | None = None
    rate_budget_url: str | None = None
    queue_url: str | None = None
    smtp_url: SecretStr | None = None
    retention_days: int = Field(30, ge=1)
    ikas_client_id: str = "bridge-local"
    ikas_client_secret: SecretStr = SecretStr("bridge-local-secret")
    ikas_api_url: str = "https://api.myikas.com"
    ikas_store_url: str = "https://{store}.myikas.com"
    fortnox_client_id: str = "bridge-local"
    fortnox_client_secret: SecretStr = SecretStr("bridge-local-secret")
    fortnox_api_url: str = "https://api.fortnox.se"
    fortnox_auth_url: str = "https://apps.fortnox.se"
    sync_interval_s: int = Field(300, ge=1)
    order_claim_lease_s: int = Field(300, ge=5)
    grpc_reflection: bool = False
    log_level: str = "INFO"
    # Not BRIDGE_-prefixed: the standard OpenTelemetry variable.
    otel_exporter_otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")

    @field_validator("auth_addr", "catalog_addr", "orders_addr")
    @classmethod
    def _is_address(cls, value: str) -> str:
        return _address(value)

    @field_validator("public_url", "ikas_api_url", "fortnox_api_url", "fortnox_auth_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("ikas_store_url")
    @classmethod
    def _has_store_placeholder(cls, value: str) -> str:
        if "{store}" not in value:
            raise ValueError("must contain {store}")
        return value

    @field_validator("log_level")
    @classmethod
    def _is_log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("vault_key")
    @classmethod
    def _are_vault_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            for key in value.get_secret_value().split(","):
                if len(_decode_key(key.strip())) != 32:
                    raise ValueError("must be comma-separated base64 keys of 32 bytes")
        return value

    @field_validator("rate_budget_url", "queue_url")
    @classmethod
    def _is_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value or None

    @model_validator(mode="after")
    def _complete(self) -> BridgeSettings:
        self.data_dir = self.data_dir.resolve()
        if self.mode is Mode.LOCAL:
            for service in ("auth", "catalog", "orders"):
                attribute = f"{service}_database_url"
                if not getattr(self, attribute):
                    setattr(self, attribute, f"sqlite:///{self.data_dir / f'{service}.db'}")
        # Every process needs these; what only one service needs (its database, the vault key) is
        # required by that service at start (`missing_for_production`), so no process is handed
        # credentials it never uses.
        if not self.public_url and self.is_local:
            self.public_url = f"http://localhost:{self.gateway_port}"
        problems = self.missing_for_production(["public_url", "service_token"])
        if problems:
            raise ValueError("\n".join(problems))  # one line per variable (describe_errors)
        return self

    def missing_for_production(self, fields: Sequence[str]) -> list[str]:
        """One line per setting in `fields` that production needs and is unset (empty in local mode)."""
        if self.is_local:
            return []
        return [
            f"BRIDGE_{name.upper()}: required when BRIDGE_MODE=production" for name in fields if not getattr(self, name)
        ]

    @property
    def is_local(self) -> bool:
        return self.mode is Mode.LOCAL

    def service_token_value(self) -> str:
        """The shared service credential; in local mode generated once into the data directory."""
        if self.service_token is not None:
            return self.service_token.get_secret_value()
        return _local_secret(self.data_dir / "service-token", lambda: secrets.token_urlsafe(32))

    def vault_keys(self) -> list[bytes]:
        """The token-vault keys, newest first; in local mode one key generated into the data directory."""
        if self.vault_key is not None:
            raw = self.vault_key.get_secret_value()
        elif not self.is_local:
            raise ValueError("BRIDGE_VAULT_KEY: required when BRIDGE_MODE=production")
        else:
            raw = _local_secret(self.data_dir / "vault.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode())
        return [_decode_key(key.strip()) for key in raw.split(",")]

    def grpc_bind_address(self, address: str) -> str:
        """Where a service listens for its own address: loopback locally, every interface in production."""
        port = address.rpartition(":")[2]
        return f"127.0.0.1:{port}" if self.is_local else f"[::]:{port}"


def _decode_key(key: str) -> bytes:
    try:
        return base64.b64decode(key, validate=True)
    except ValueError:
        return b""


def _local_secret(path: Path, generate: Any) -> str:
    """Reads a generated local-mode secret, creating it race-free when several processes start at once."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as draft:
            draft.write(generate())
        os.chmod(draft.name, 0o600)
        try:
            os.link(draft.name, path)  # atomic, and fails if another process won the race
        except FileExistsError:
            pass
        finally:
            os.unlink(draft.name)
    return path.read_text().strip()


Settings = TypeVar("Settings", bound=BridgeSettings)


def load_settings(settings_class: type[Settings] = BridgeSettings, **overrides: Any) -> Settings:  # type: ignore[assignment]
    """Loads settings or exits with code 2, printing one line per bad variable."""
    try:
        return settings_class(**overrides)
    except ValidationError as error:
        for line in describe_errors(error):
            print(line, file=sys.stderr)
        raise SystemExit(EXIT_BAD_CONFIGURATION) from None


def describe_errors(error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        if message.startswith("BRIDGE_"):
            lines.append(message)
            continue
        name = str(problem["loc"][0]) if problem["loc"] else "configuration"
        variable = "OTEL_EXPORTER_OTLP_ENDPOINT" if name == "otel_exporter_otlp_endpoint" else f"BRIDGE_{name.upper()}"
        shown = "" if _is_secret(name) else f" (got {problem.get('input')!r})"
        lines.append(f"{variable}: {message}{shown}")
    return lines


def _is_secret(name: str) -> bool:
    return any(word in name for word in ("token", "key", "secret", "smtp"))
