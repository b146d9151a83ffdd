"""Secrets at rest: Fernet tokens under a ring of master keys (newest first), so keys rotate live.

Production passes ``BRIDGE_MASTER_KEYS``. With none given, a development key is generated once into
a local file (mode 0600) and a loud warning says it is for development only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bridge.errors import ConfigError
from bridge.logs import register_secret

log = logging.getLogger(__name__)

DEV_KEY_WARNING = ("DEVELOPMENT MASTER KEY in use ({path}): tenant secrets are encrypted with a key "
                   "stored next to the database. Set BRIDGE_MASTER_KEYS for any real deployment.")


class SecretDecryptionError(Exception):
    """A stored secret that none of the configured master keys can decrypt."""


class Keyring:
    """Encrypts with the newest master key; decrypts with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("BRIDGE_MASTER_KEYS: at least one key is required")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode() if isinstance(key, str) else key))
            except (ValueError, TypeError):
                raise ConfigError(f"BRIDGE_MASTER_KEYS: key #{position} is not a valid Fernet key "
                                  "(32 url-safe base64-encoded bytes; make one with `bridge keys generate`)") from None
            register_secret(key)
        self._multi = MultiFernet(fernets)
        self.key_count = len(fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            value = self._multi.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise SecretDecryptionError("a stored secret cannot be decrypted with the configured master keys") from None
        register_secret(value)
        return value

    def rotate(self, token: str) -> str:
        """The same secret, re-encrypted under the newest key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretDecryptionError("a stored secret cannot be decrypted with the configured master keys") from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _read_or_create_dev_key(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = generate_key()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def keyring_from_settings(master_keys: Sequence[str], key_file: Path) -> Keyring:
    """The configured keys, or the development key file (created on first use) with a warning."""
    if master_keys:
        return Keyring(master_keys)
    key = _read_or_create_dev_key(key_file)
    log.warning(DEV_KEY_WARNING.format(path=key_file.resolve()))
    return Keyring([key])
