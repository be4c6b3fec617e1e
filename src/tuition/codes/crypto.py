"""Keyed digests and sealed copies of codes, with keys derived from SECRET_KEY.

`digest` finds a code without storing it. `seal`/`unseal` keep a copy that only the running
service can read back, with the `cryptography` library's Fernet; see
docs/decisions/0005-code-storage.md.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_VERSION = "f1"


def _key(purpose: str) -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"tuition.codes.{purpose}".encode(), hashlib.sha256
    ).digest()


def digest(normalized: str) -> str:
    """The lookup key of a normalized code (hex, 64 characters)."""
    return hmac.new(_key("lookup"), normalized.encode("ascii"), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key("seal")))


def seal(text: str) -> str:
    """An authenticated, encrypted copy of a code (Fernet: AES-128-CBC with HMAC-SHA256)."""
    return _VERSION + ":" + _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str | None:
    """The code back, or None when the copy was made under another key or was tampered with."""
    version, _, token = sealed.partition(":")
    if version != _VERSION:
        return None
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None
