"""The text of codes: generation, normalization and display.

Generated codes are 16 Crockford base32 symbols (80 random bits from `secrets`), shown in
groups of four. Entry is forgiving the Crockford way (case, spaces, hyphens, O for 0, I and L
for 1) and strict about everything else: non-ASCII characters (look-alike letters from other
scripts), control characters and over-long input are refused as validation errors.
"""

import re
import secrets

from django.utils.translation import gettext

from tuition.core.amounts import field_label
from tuition.core.errors import ValidationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GENERATED_LENGTH = 16  # 16 x 5 bits = 80 random bits
MAX_INPUT_LENGTH = 64
CUSTOM_MIN_LENGTH = 6
CUSTOM_MAX_LENGTH = 32
_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_NORMALIZED = re.compile(r"^[0-9A-Z]+$")


def _label(field: str) -> str:
    """The field as people name it ("Code"), never its parameter name."""
    return gettext("Code") if field.rsplit(".", 1)[-1] == "code" else field_label(field)


def generate_code() -> str:
    """A new random code, grouped for display: ABCD-EFGH-JKMN-PQRS."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GENERATED_LENGTH))
    return group(symbols)


def group(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def normalize_code(raw: object, *, field: str = "code") -> str:
    """The canonical form a code is matched by.

    Raises:
        ValidationError: not a string, empty, too long, non-ASCII or control characters, or
            characters that can never be part of a code.
    """
    if not isinstance(raw, str):
        raise ValidationError(
            gettext("%(field)s must be text.") % {"field": _label(field)}, details={"field": field}
        )
    if len(raw) > MAX_INPUT_LENGTH:
        raise ValidationError(
            gettext("%(field)s is too long.") % {"field": _label(field)}, details={"field": field}
        )
    if not raw.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise ValidationError(
            gettext("%(field)s contains characters that are not allowed.")
            % {"field": _label(field)},
            details={"field": field},
        )
    cleaned = raw.replace(" ", "").replace("-", "").upper().translate(_TRANSLATE)
    if not cleaned:
        raise ValidationError(
            gettext("%(field)s is empty.") % {"field": _label(field)}, details={"field": field}
        )
    if not _NORMALIZED.match(cleaned):
        raise ValidationError(
            gettext("%(field)s may contain only letters, digits, spaces and hyphens.")
            % {"field": _label(field)},
            details={"field": field},
        )
    return cleaned


def clean_custom_code(raw: object) -> tuple[str, str]:
    """A staff-chosen code: (display form, normalized form).

    Raises:
        ValidationError: as normalize_code, or shorter than 6 / longer than 32 symbols.
    """
    normalized = normalize_code(raw)
    if not CUSTOM_MIN_LENGTH <= len(normalized) <= CUSTOM_MAX_LENGTH:
        raise ValidationError(
            gettext("A custom code needs %(min)s to %(max)s letters or digits.")
            % {"min": CUSTOM_MIN_LENGTH, "max": CUSTOM_MAX_LENGTH},
            details={"field": "code"},
        )
    display = " ".join(str(raw).split()).upper()
    return display, normalized
