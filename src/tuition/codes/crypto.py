"""Keyed digests and sealed copies of codes, with keys derived from SECRET_KEY.

`digest` finds a code without storing it. `seal`/`unseal` keep a copy that only the running
service can read back: HMAC-SHA256 as a pseudo-random function in counter mode for the
keystream, then an HMAC-SHA256 tag over nonce and ciphertext (encrypt-then-MAC). Codes are
short, so the stdlib construction is enough; see docs/decisions/0005-code-storage.md.
"""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

_VERSION = "v1"


def _key(purpose: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"tuition.codes.{purpose}".encode(),
                    hashlib.sha256).digest()


def digest(normalized: str) -> str:
    """The lookup key of a normalized code (hex, 64 characters)."""
    return hmac.new(_key("lookup"), normalized.encode("ascii"), hashlib.sha256).hexdigest()


def _keystream(nonce: bytes, length: int) -> bytes:
    key = _key("seal")
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def seal(text: str) -> str:
    plain = text.encode("utf-8")
    nonce = secrets.token_bytes(16)
    cipher = bytes(a ^ b for a, b in zip(plain, _keystream(nonce, len(plain)), strict=True))
    tag = hmac.new(_key("tag"), nonce + cipher, hashlib.sha256).digest()[:16]
    return _VERSION + ":" + base64.urlsafe_b64encode(nonce + tag + cipher).decode("ascii")


def unseal(sealed: str) -> str | None:
    """The code back, or None when the copy was made under another key or was tampered with."""
    version, _, body = sealed.partition(":")
    if version != _VERSION:
        return None
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
    except ValueError:
        return None
    nonce, tag, cipher = raw[:16], raw[16:32], raw[32:]
    expected = hmac.new(_key("tag"), nonce + cipher, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(tag, expected):
        return None
    plain = bytes(a ^ b for a, b in zip(cipher, _keystream(nonce, len(cipher)), strict=True))
    return plain.decode("utf-8")
