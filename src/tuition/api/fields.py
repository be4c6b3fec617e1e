"""Strict input fields: JSON types are taken as they are, never coerced.

The framework's stock fields accept 12.5 for a text field and "yes" for a boolean; money and
ids must not be guessed, so these refuse the wrong JSON type, and serializers refuse unknown
fields (SPEC §4 `validation_error`).
"""

from datetime import datetime
from typing import Any

from django.core.validators import EmailValidator
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


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            raise serializers.ValidationError("Must not contain NUL characters.")
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


@extend_schema_field({"type": "string", "example": "150.00"})
class AmountField(serializers.Field):
    """A decimal string ("150.00"), or an integer. Parsed into minor units by the view, once
    it knows the unit's decimals (core.amounts.parse_amount)."""

    default_error_messages = {"invalid": 'Must be a decimal string such as "150.00".'}

    def to_internal_value(self, data: Any) -> str | int:
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 40:
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field({"type": "string"})
class IdField(serializers.Field):
    """An opaque id: a string (or an integer) naming an existing row."""

    default_error_messages = {"invalid": "Must be an id."}

    def to_internal_value(self, data: Any) -> int:
        pk = parse_id(data)
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


def id_str(value: Any) -> str | None:
    return None if value is None else str(value)


class StrictEmailField(StrictCharField):
    """An email address, compared case-insensitively (stored lowercased)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)
        self.validators.append(EmailValidator(message="Enter a valid email address."))

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).strip().lower()
