"""How the OpenAPI document describes the API: the API-key scheme, tags by resource, a summary
per operation, declared query parameters, strict request bodies and an example per operation."""

import re
from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema

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
        return {"type": "string", "format": "email", "maxLength": 254}


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
