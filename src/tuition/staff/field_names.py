"""Field names as the staff pages show them (list columns, filters, form labels), in the
reader's language.

Tuition's models leave most field names to Django ("external_id" reads "external id"), which
are English only. Rather than repeating each name in every model (and a migration for each),
the staff area gives those fields these translatable names when the apps are ready. A field
with its own `verbose_name` keeps it. The catalog test checks that every field the staff
area shows has an entry here.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

FIELD_NAMES = {
    "account": _("account"),
    "activities": _("activities"),
    "activity": _("activity"),
    "actor": _("actor"),
    "amount": _("amount"),
    "amount_off": _("amount off"),
    "armed": _("armed"),
    "attempts": _("attempts"),
    "balance_before": _("balance before"),
    "booked": _("booked"),
    "buyer": _("buyer"),
    "can_view_balance": _("can view balance"),
    "cancelled_at": _("cancelled at"),
    "cancelled_by": _("cancelled by"),
    "cap": _("cap"),
    "capacity": _("capacity"),
    "capture_transfer": _("capture transfer"),
    "card_last4": _("card last four"),
    "card_reference": _("card reference"),
    "charged": _("charged"),
    "code": _("code"),
    "code_hint": _("code hint"),
    "columns": _("columns"),
    "coupon": _("coupon"),
    "created": _("created"),
    "created_at": _("created at"),
    "created_by": _("created by"),
    "decimals": _("decimals"),
    "deleted_at": _("deleted at"),
    "description": _("description"),
    "digest": _("digest"),
    "discount": _("discount"),
    "email": _("email"),
    "ended_at": _("ended at"),
    "ended_by": _("ended by"),
    "ends_at": _("ends at"),
    "error": _("error"),
    "event": _("event"),
    "event_kinds": _("event kinds"),
    "expires_at": _("expires at"),
    "expiry_days": _("expiry days"),
    "external_id": _("external id"),
    "file": _("file"),
    "filename": _("filename"),
    "filters": _("filters"),
    "finished_at": _("finished at"),
    "fired_at": _("bought at"),
    "firings": _("refills bought"),
    "format": _("format"),
    "group": _("group"),
    "hashed_key": _("hashed key"),
    "hint": _("hint"),
    "hold": _("hold"),
    "hold_transfer": _("hold transfer"),
    "id": _("id"),
    "is_active": _("is active"),
    "is_builtin": _("is builtin"),
    "is_cancelled": _("is cancelled"),
    "is_custom": _("is custom"),
    "is_dated": _("is dated"),
    "is_personal": _("is personal"),
    "is_published": _("is published"),
    "issued_at": _("issued at"),
    "item_kind": _("item kind"),
    "key": _("key"),
    "kind": _("kind"),
    "label": _("label"),
    "last_error": _("last error"),
    "last_used_at": _("last used at"),
    "learner": _("learner"),
    "learner_can_cancel": _("learner can cancel"),
    "lease_until": _("lease until"),
    "list_price": _("list price"),
    "location": _("location"),
    "lot": _("lot"),
    "low_balance_threshold": _("low balance threshold"),
    "max_uses": _("max uses"),
    "member": _("member"),
    "message_id": _("message id"),
    "metadata": _("metadata"),
    "method": _("method"),
    "name": _("name"),
    "next_attempt_at": _("next attempt at"),
    "notes": _("notes"),
    "notify": _("notify"),
    "number": _("number"),
    "once_per_learner": _("once per learner"),
    "order": _("order"),
    "outcome": _("outcome"),
    "owner": _("owner"),
    "paid_at": _("paid at"),
    "part_of": _("part of"),
    "pause_reason": _("pause reason"),
    "paused_at": _("paused at"),
    "payment_reference": _("payment reference"),
    "percent_off_bp": _("percent off bp"),
    "prefix": _("prefix"),
    "previous_secret": _("previous secret"),
    "previous_secret_expires_at": _("previous secret expires at"),
    "price": _("price"),
    "provider": _("provider"),
    "purchase_price": _("purchase price"),
    "reason": _("reason"),
    "redeemable_value": _("redeemable value"),
    "redeemer_policy": _("redeemer policy"),
    "refill_amount": _("refill amount"),
    "refill_lot": _("refill lot"),
    "refill_unit": _("refill unit"),
    "refund_transfer": _("refund transfer"),
    "refund_window_days": _("refund window days"),
    "refunded": _("refunded"),
    "refunded_amount": _("refunded amount"),
    "registration": _("registration"),
    "release_transfer": _("release transfer"),
    "remaining": _("remaining"),
    "report_type": _("report type"),
    "requested_by": _("requested by"),
    "response_body": _("response body"),
    "response_code": _("response code"),
    "reverses": _("reverses"),
    "revoked": _("revoked"),
    "role": _("role"),
    "row_count": _("row count"),
    "rule": _("rule"),
    "scope_all": _("scope all"),
    "scope_item_list": _("scope item list"),
    "scope_kind": _("scope kind"),
    "scopes": _("scopes"),
    "sealed": _("sealed"),
    "secret": _("secret"),
    "sent_at": _("sent at"),
    "sequence": _("sequence"),
    "session": _("session"),
    "show_balance": _("show balance"),
    "source": _("source"),
    "spent": _("spent"),
    "starts_at": _("starts at"),
    "status": _("status"),
    "subscription": _("subscription"),
    "system_account": _("system account"),
    "threshold": _("threshold"),
    "timezone": _("timezone"),
    "title": _("title"),
    "transfer": _("transfer"),
    "unique_key": _("unique key"),
    "unit": _("unit"),
    "unit_price": _("unit price"),
    "updated_at": _("updated at"),
    "url": _("url"),
    "user": _("user"),
    "uses": _("uses"),
    "valid_from": _("valid from"),
    "valid_until": _("valid until"),
    "year": _("year"),
}


def shown_models() -> list[Any]:
    """The product's models the staff area lists or shows inline."""
    from django.contrib import admin

    found: dict[str, Any] = {}
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("tuition."):
            continue
        found[model._meta.label] = model
        for inline in model_admin.inlines:
            found[inline.model._meta.label] = inline.model
    return [found[label] for label in sorted(found)]


def unnamed_fields(model: Any) -> list[Any]:
    """The fields of a model whose name Django makes up from the attribute name."""
    return [
        f
        for f in model._meta.get_fields()
        if hasattr(f, "_verbose_name")
        and not (f.auto_created and not f.concrete)
        and f._verbose_name is None
    ]


def name_fields() -> None:
    """Give every unnamed field of the product's models its translatable name."""
    from django.apps import apps

    for model in apps.get_models():
        if not model.__module__.startswith("tuition."):
            continue
        for field in unnamed_fields(model):
            name = FIELD_NAMES.get(field.name)
            if name is not None:
                field.verbose_name = name
