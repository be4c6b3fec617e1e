"""Strict input fields: JSON types are taken as they are, never coerced.

The framework's stock fields accept 12.5 for a text field and "yes" for a boolean; money and
ids must not be guessed, so these refuse the wrong JSON type, and serializers refuse unknown
fields (SPEC §4 `validation_error`).
"""

import re
from datetime import datetime
from typing import Any

from django.core.validators import EmailValidator, RegexValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tuition.core.amounts import MAX_MINOR

from .access import parse_id


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, read-only fields included."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(k) for k in data if k not in writable)
            if unknown:
                raise serializers.ValidationError({k: ["Unknown field."] for k in unknown})
        return super().to_internal_value(data)


# What Python's str.strip() removes, spelled so that JSON Schema (ECMA 262) and Python agree.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# No NUL anywhere; unless blank is allowed, at least one character that is not a space.
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"


class StrictCharField(serializers.CharField):
    """Text as given (surrounding spaces trimmed), never NUL; the length limit applies to
    what was sent. The schema publishes the same rule as a pattern."""

    def __init__(
        self, *, pattern: str | None = None, pattern_message: str | None = None, **kwargs: Any
    ):
        if pattern is not None:
            kwargs.setdefault("trim_whitespace", False)  # the pattern says what is allowed
        super().__init__(**kwargs)
        if pattern is not None:
            message = pattern_message or "Not in the form this field takes (see the schema)."
        else:
            pattern = NO_NUL_PATTERN if self.allow_blank else NOT_BLANK_PATTERN
            message = "Must not be blank or contain NUL characters."
        self.validators.append(RegexValidator(pattern, message=message))

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            raise serializers.ValidationError("Must not contain NUL characters.")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def __init__(self, **kwargs: Any):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_MINOR)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictQueryInt(serializers.IntegerField):
    """An integer query parameter: digits only ("5", not "5.0", "+5" or " 5")."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or re.fullmatch(r"-?[0-9]{1,18}", data) is None:
            self.fail("invalid")
        return super().to_internal_value(data)


# The only amount shapes the API takes: plain decimal strings, no sign, exponent, space or
# leading zero, at most 13 integer digits and 6 decimals (the unit's own precision is checked
# once the unit is known). The same patterns are published in the schema.
AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,12})(\.[0-9]{1,6})?$"
SIGNED_AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]{0,12})(\.[0-9]{1,6})?$"
USD_PATTERN = r"^(0|[1-9][0-9]{0,12})(\.[0-9]{1,2})?$"
# A percentage above 0 and at most 100, with at most 2 decimals.
PERCENT_PATTERN = r"^(100(\.00?)?|[1-9][0-9]?(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"


class AmountField(serializers.Field):
    """A decimal string ("150.00"), never a JSON number. Parsed into minor units by the view,
    once it knows the unit's decimals (core.amounts.parse_amount)."""

    default_error_messages = {
        "invalid": 'Must be a decimal string such as "150.00" (not a number, no spaces).',
        "decimals": 'Must be a decimal string with at most 2 decimals, such as "150.00".',
    }

    def __init__(
        self, *, signed: bool = False, usd: bool = False, pattern: str | None = None, **kwargs: Any
    ):
        self.pattern = pattern or (
            USD_PATTERN if usd else SIGNED_AMOUNT_PATTERN if signed else AMOUNT_PATTERN
        )
        self.usd = usd
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or len(data) > 40 or not data.isascii():
            self.fail("invalid")
        if re.fullmatch(self.pattern, data) is None:
            if self.usd and re.fullmatch(AMOUNT_PATTERN, data):
                self.fail("decimals")
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field({"type": "string", "pattern": r"^[1-9][0-9]{0,17}$", "example": "42"})
class IdField(serializers.Field):
    """An opaque id: a string naming an existing row. Clients must treat ids as opaque."""

    default_error_messages = {"invalid": 'Must be an id (a string such as "42").'}

    def to_internal_value(self, data: Any) -> int:
        pk = parse_id(data) if isinstance(data, str) else None
        if pk is None:
            self.fail("invalid")
        return pk  # type: ignore[return-value]

    def to_representation(self, value: Any) -> str:
        return str(value)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; naive times are refused rather than guessed."""

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "naive": "Must include a time zone offset, e.g. 2027-01-10T09:00:00+01:00.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            self.fail("invalid", format="ISO 8601")
        parsed = super().to_internal_value(value)
        return parsed

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        if value.year < 1970 or value.year > 9000:
            self.fail("invalid", format="ISO 8601 between 1970 and 9000")
        return super().enforce_timezone(value)


# The addresses the API takes (published in the schema with `format: email`): dot-atom local
# part, dotted host names, a letter TLD. Narrower than RFC 5321 on purpose: the same rule on
# both sides, and Django's EmailValidator (used by the pages) accepts all of them.
# The local part is at most 64 characters (RFC 5321), the host at most 4 labels.
_LOCAL = r"[A-Za-z0-9_%+-]{1,32}(\.[A-Za-z0-9_%+-]{1,15}){0,2}"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_LOCAL}@({_LABEL}\.){{1,4}}[A-Za-z]{{2,24}}$"


class StrictEmailField(StrictCharField):
    """An email address, compared case-insensitively (stored lowercased)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_length", 254)
        super().__init__(
            pattern=EMAIL_PATTERN, pattern_message="Enter a valid email address.", **kwargs
        )
        self.validators.append(EmailValidator(message="Enter a valid email address."))

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).strip().lower()
