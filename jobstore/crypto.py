"""Encryption at rest of patient text and results (Fernet, rotation-ready with MultiFernet)."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(Exception):
    """A ciphertext could not be decrypted with any configured key."""


class Cipher:
    """Encrypts with the first key, decrypts with any; ``rotate`` re-encrypts with the first."""

    def __init__(self, keys: Iterable[str]):
        keys = [k for k in keys if k]
        if not keys:
            raise ValueError("at least one encryption key is required (MINDQ_ENCRYPTION_KEYS)")
        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
        # keyed hash for lookups of identifiers (patient_ref) without storing them
        self._hmac_key = hashlib.sha256(b"mindq-lookup:" + keys[0].encode()).digest()

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt_json(self, value: Any) -> bytes:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode())

    def decrypt_json(self, token: bytes) -> Any:
        try:
            return json.loads(self._fernet.decrypt(bytes(token)))
        except InvalidToken as exc:
            raise DecryptionError("ciphertext does not decrypt with any configured key") from exc

    def rotate(self, token: bytes) -> bytes:
        return self._fernet.rotate(bytes(token))

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hmac_key, value.encode(), hashlib.sha256).hexdigest()
