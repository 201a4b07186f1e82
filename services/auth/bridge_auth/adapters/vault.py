"""The token vault's cipher: AES-256-GCM with a list of keys (BRIDGE_VAULT_KEY), the first encrypts, all decrypt.

A sealed value is `v1.<key id>.<nonce>.<ciphertext>` (base64url): the key id (the first 8 hex characters of
the key's SHA-256) picks the key that opens it, so keys rotate without downtime: put a new key first, and
values sealed with the old one still open until they are rewritten. The context (tenant, upstream, field)
is authenticated data: a value moved to another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION: Final = "v1"
_NONCE_BYTES: Final = 12


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AesGcmVault:
    """Vault over AES-256-GCM; `keys` newest first, 32 bytes each."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys or any(len(key) != 32 for key in keys):
            raise ValueError("the vault needs one or more 32-byte keys")
        self._ciphers = {key_id(key): AESGCM(key) for key in reversed(keys)}
        self._current = key_id(keys[0])

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{_VERSION}.{self._current}.{_b64(nonce)}.{_b64(sealed)}"

    def open(self, sealed: str, *, context: str) -> str:
        try:
            version, kid, nonce, ciphertext = sealed.split(".")
        except ValueError:
            raise ValueError("not a sealed vault value") from None
        cipher = self._ciphers.get(kid)
        if version != _VERSION or cipher is None:
            raise ValueError(f"no vault key opens this value (key id {kid}); is BRIDGE_VAULT_KEY complete?")
        try:
            plain = cipher.decrypt(_unb64(nonce), _unb64(ciphertext), context.encode("utf-8"))
        except (InvalidTag, binascii.Error, ValueError):
            raise ValueError("the sealed value does not open with its key and context") from None
        return plain.decode("utf-8")
