"""How the OpenAPI document describes the API: the API-key scheme, tags by resource, a summary
per operation, declared query parameters, strict request bodies and an example per operation."""

import re
from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema

from .fields import EMAIL_PATTERN

SUMMARIES = {
    "units_list": "List units (USD and token types)",
    "units_create": "Create a token type",
    "units_retrieve": "Get a unit by its code",
    "accounts_list": "List training accounts",
    "accounts_create": "Create a training account",
    "accounts_retrieve": "Get a training account",
    "accounts_members_list": "List an account's members",
    "accounts_members_create": "Add a member to an account",
    "accounts_members_retrieve": "Get a member of an account",
    "accounts_members_destroy": "Remove a member from an account",
    "accounts_balances": "Get an account's balances per unit, with its lots",
    "accounts_approval_rules_retrieve": "Get an account's approval rules",
    "accounts_approval_rules_update": "Set an account's approval rules",
    "holds_list": "List redemptions waiting for (or decided by) an owner's approval",
    "holds_approve": "Approve a held redemption: it is redeemed and registered",
    "holds_decline": "Decline a held redemption: its value and seat are released",
    "accounts_usage": "Usage of an account by team member",
    "accounts_refills_create": "Buy a refill for an account",
    "credits_list": "List credits",
    "credits_create": "Issue a credit",
    "credits_retrieve": "Get a credit",
    "credits_update": "Edit a credit (status, expiry, scope, notes)",
    "credits_destroy": "Delete a credit (voids its remaining value)",
    "credits_bulk": "Activate, deactivate or delete many credits",
    "credits_history": "A credit's change history",
    "credits_adjustments_list": "List a credit's adjustments",
    "credits_adjustments_create": "Adjust a credit up or down",
    "codes_list": "List pool and per-member codes",
    "codes_create": "Create a pool or per-member code",
    "codes_retrieve": "Get a code",
    "codes_update": "Activate or deactivate a code",
    "codes_destroy": "Delete a code",
    "codes_rotate": "Replace a code's text",
    "coupons_list": "List coupons",
    "coupons_create": "Create a coupon",
    "coupons_retrieve": "Get a coupon",
    "coupons_update": "Edit a coupon",
    "coupons_destroy": "Delete a coupon",
    "activities_list": "List activities",
    "activities_create": "Create an activity",
    "activities_retrieve": "Get an activity",
    "activities_update": "Edit an activity",
    "groups_list": "List groups (programs, paths, bundles)",
    "groups_create": "Create a group",
    "groups_retrieve": "Get a group",
    "groups_update": "Edit a group",
    "sessions_list": "List sessions (course dates)",
    "sessions_create": "Create a session",
    "sessions_retrieve": "Get a session",
    "sessions_update": "Edit or cancel a session",
    "checkout_quote": "Quote a checkout without paying",
    "checkout_create": "Check out: pay and enroll",
    "registrations_list": "List registrations",
    "registrations_retrieve": "Get a registration",
    "registrations_book": "Book a session for a registration without a booking",
    "registrations_reschedule": "Move a booking to another session",
    "registrations_unenroll": "Leave the booked session (the registration stays active)",
    "registrations_cancel": "Cancel a registration, with or without a refund",
    "orders_list": "List orders",
    "orders_retrieve": "Get an order",
    "orders_receipt": "Get an order's receipt",
    "orders_invoice": "Get an order's invoice",
    "orders_refunds_list": "List an order's partial refunds",
    "orders_refunds_create": "Refund part of an order",
    "accounts_forecast": "Forecast an account's balance",
    "transactions_list": "List ledger transactions",
    "transactions_retrieve": "Get a ledger transaction",
    "reports_types": "List report types and their columns",
    "reports_run": "Run a report and download it",
    "reports_export": "Get a background export",
    "reports_export_download": "Download a finished export",
    "reports_saved_list": "List saved reports",
    "reports_saved_create": "Save a report definition",
    "reports_saved_get": "Get a saved report",
    "reports_saved_update": "Edit a saved report",
    "reports_saved_delete": "Delete a saved report",
    "webhooks_list": "List webhook subscriptions",
    "webhooks_create": "Subscribe to webhooks",
    "webhooks_retrieve": "Get a webhook subscription",
    "webhooks_update": "Edit a webhook subscription",
    "webhooks_destroy": "Delete a webhook subscription",
    "webhooks_rotate_secret": "Rotate a subscription's signing secret",
    "webhooks_deliveries_list": "List a subscription's deliveries",
    "webhooks_deliveries_resend": "Send a delivery again",
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tuition.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Send `Authorization: Api-Key <key>`: the word `Api-Key`, one "
            "space, then the key (made with `tuition create-api-key NAME --scopes ...` or in "
            "the admin). Keys are shown once, scoped and revocable.",
        }


class TuitionAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        match = re.match(r"^/api/v1/([a-z]+)", self.path)
        return [match.group(1)] if match else super().get_tags()

    def get_summary(self) -> str | None:
        return SUMMARIES.get(self.get_operation_id()) or super().get_summary()

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        query = getattr(self.view, "queries", {}).get(self.method.upper())
        if query is not None:
            parameters.append(query)
        return parameters


def strict_request_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Request bodies refuse unknown fields (SPEC §4): say so in every request component."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    item = result.get("components", {}).get("schemas", {}).get("CheckoutItemInRequest")
    if item is not None:  # exactly one of activity or group
        item["minProperties"] = item["maxProperties"] = 1
    return result


class EmailFieldScheme(OpenApiSerializerFieldExtension):
    target_class = "tuition.api.fields.StrictEmailField"

    def map_serializer_field(self, auto_schema, direction):  # type: ignore[no-untyped-def]
        return {"type": "string", "format": "email", "maxLength": 254, "pattern": EMAIL_PATTERN}


class AmountFieldScheme(OpenApiSerializerFieldExtension):
    """Amounts sent to the API: a decimal string with exactly the pattern the server checks."""

    target_class = "tuition.api.fields.AmountField"

    def map_serializer_field(self, auto_schema, direction):  # type: ignore[no-untyped-def]
        field = self.target
        example = "-25.00" if field.pattern.startswith("^-") else "150.00"
        return {"type": "string", "pattern": field.pattern, "example": example}


class AwareDateTimeScheme(OpenApiSerializerFieldExtension):
    """ISO 8601 with an offset, years 1970 to 9000 (what the server takes)."""

    target_class = "tuition.api.fields.AwareDateTimeField"

    def map_serializer_field(self, auto_schema, direction):  # type: ignore[no-untyped-def]
        return {
            "type": "string",
            "format": "date-time",
            "pattern": r"^(19[7-9][0-9]|[2-8][0-9]{3}|9000)-",
            "example": "2027-01-10T09:00:00+01:00",
        }


_STRING_EXAMPLES = {
    "date-time": "2027-01-10T09:00:00+01:00",
    "date": "2027-01-10",
    "email": "ana@acme.test",
    "uri": "https://crm.example.com/hooks/tuition",
    "uuid": "3f1e0c2a-9b7d-4c1e-8f00-5a6b7c8d9e0f",
}
_NAMED_EXAMPLES = {
    "id": "42",
    "session": "7",
    "amount": "300.00",
    "unit": "USD",
    "code": "7KQ2-M9XD-T4HB-PW3C",
    "number": "INV-2027-000042",
    "title": "Cloud Fundamentals",
    "name": "Acme",
    "timezone": "Europe/Berlin",
    "url": "https://crm.example.com/hooks/tuition",
    "message": "The input is not valid.",
}


def _example(  # type: ignore[no-untyped-def]
    schema: dict[str, Any],
    components: dict[str, Any],
    name: str = "",
    depth: int = 0,
    *,
    request: bool = False,
):
    """A value that satisfies `schema`, made from its examples, enums, formats and patterns
    (for a request: its required fields only)."""

    def inner(sub: dict[str, Any], sub_name: str = name) -> Any:
        return _example(sub, components, sub_name, depth + 1, request=request)

    if depth > 10:
        return None
    if "$ref" in schema:
        return inner(components[schema["$ref"].split("/")[-1]])
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            return inner(schema[combined][0])
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        names = list(properties)
        if request:
            names = schema.get("required") or names[:1]
        if "maxProperties" in schema:
            names = names[: schema["maxProperties"]]
        return {n: inner(properties[n], n) for n in names}
    if kind == "array":
        return [inner(schema.get("items", {}))]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") in _STRING_EXAMPLES:
            return _STRING_EXAMPLES[schema["format"]]
        pattern = schema.get("pattern", "")
        if pattern.startswith("^[1-9][0-9]") or name in ("account", "activity", "group"):
            return "42"
        return _NAMED_EXAMPLES.get(name, "text")
    return None


_CHECKOUT = {
    "learner": {"email": "ana@acme.test", "name": "Ana"},
    "item": {"activity": "42"},
    "session": "7",
    "payment": {"method": "code", "code": "7kq2 m9xd t4hb pw3c"},
}
# The examples of SPEC Appendix A; every other operation gets one made from its schema.
REQUEST_EXAMPLES: dict[str, Any] = {
    "units_create": {"code": "TT", "name": "Training Token", "decimals": 0},
    "accounts_create": {
        "name": "Acme",
        "external_id": "crm-42",
        "owners": ["olga@acme.test"],
        "redeemers": "anyone",
    },
    "accounts_members_create": {
        "email": "ana@acme.test",
        "role": "member",
        "can_view_balance": False,
    },
    "activities_create": {
        "title": "Cloud Fundamentals",
        "price": "300.00",
        "token_prices": [{"unit": "TT", "amount": "3"}],
        "refund_window_days": 14,
    },
    "sessions_create": {
        "activity": "42",
        "starts_at": "2027-01-10T09:00:00+01:00",
        "ends_at": "2027-01-10T17:00:00+01:00",
        "timezone": "Europe/Berlin",
        "capacity": 12,
        "location": "Online",
    },
    "groups_create": {"title": "Cloud Path", "price": "800.00", "activities": ["42", "43"]},
    "credits_create": {
        "account": "42",
        "unit": "USD",
        "redeemable_value": "500.00",
        "purchase_price": "450.00",
        "external_id": "pi_123",
        "expires_at": "2027-11-21T00:00:00Z",
        "scope": {"kind": "activity", "all": True, "items": []},
        "code": None,
        "status": "active",
        "notes": "Q4 deal",
    },
    "credits_update": {"status": "inactive"},
    "accounts_approval_rules_update": {
        "above": [{"unit": "USD", "amount": "500.00"}],
        "items": [{"activity": "42"}],
        "hold_hours": 72,
    },
    "credits_bulk": {"action": "deactivate", "ids": ["42", "43"]},
    "checkout_quote": _CHECKOUT,
    "checkout_create": _CHECKOUT,
    "registrations_reschedule": {"session": "8"},
    "registrations_cancel": {"refund": True},
    "reports_run": {
        "type": "purchases",
        "columns": ["date", "learner_email", "code", "amount"],
        "filters": {"from": "2026-01-01"},
        "format": "csv",
    },
}


def operation_examples(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """An example per operation: of its request body, and of each JSON answer it can give."""
    components = result.get("components", {}).get("schemas", {})
    for path in result.get("paths", {}).values():
        for operation in path.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body:
                body["example"] = REQUEST_EXAMPLES.get(operation["operationId"]) or _example(
                    body["schema"], components, request=True
                )
            for response in operation.get("responses", {}).values():
                content = response.get("content", {}).get("application/json")
                if content is not None and "schema" in content and "example" not in content:
                    content["example"] = _example(content["schema"], components)
    return result
