"""Forgetting a person: their personal data replaced everywhere by a stable pseudonym.

The ledger is not touched: its transfers and entries hold references (user ids), never names
or addresses, and every page, report and answer resolves the reference to the person's
current name at read time, so after erasure they show the pseudonym. See
docs/decisions/0014-erasure.md.
"""

import hashlib
import hmac
import io
import zipfile
from html import escape

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Model, Q
from django_tasks_db.models import DBTaskResult

from tuition.accounts.models import TrainingAccount, User
from tuition.accounts.services import normalize_email
from tuition.checkout.models import CreditNote, Order, Registration
from tuition.codes.models import AttemptCounter, Coupon, RedemptionCode
from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.errors import NotFoundError
from tuition.core.models import IdempotencyRecord
from tuition.core.transactions import use_case
from tuition.ledger.models import Lot
from tuition.notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    NotificationEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from tuition.reports.models import ReportExport, SavedReport

from .models import Erasure
from .scrub import ERASED_NAME, Traces, person_names, scrub_rows

PSEUDONYM_DOMAIN = "erased.invalid"
EXPORT_REMOVED = "Removed: it named a person who asked to be forgotten. Build it again."

# Where a person's address or name can stand in free text, JSON or an actor reference. The
# ledger's transfers and entries are not here: they hold ids only.
TRACES_IN: list[tuple[type[Model], tuple[str, ...]]] = [
    (TrainingAccount, ("name",)),
    (Lot, ("notes", "created_by")),
    (RedemptionCode, ("label", "created_by")),
    (Coupon, ("name", "notes", "created_by")),
    (Order, ("actor", "payment_reference")),
    (Registration, ("cancelled_by",)),
    (CreditNote, ("reason", "actor")),
    (NotificationEvent, ("data",)),
    (EmailDelivery, ("email", "last_error")),
    (WebhookDelivery, ("response_body", "last_error")),
    (WebhookSubscription, ("description", "created_by")),
    (IdempotencyRecord, ("response_body",)),
    (SavedReport, ("name", "filters", "created_by")),
    (ReportExport, ("filters", "filename", "error", "actor")),
    (DBTaskResult, ("args_kwargs", "return_value", "traceback")),
    (LogEntry, ("object_repr", "change_message")),
]


def pseudonym_for(user_id: int) -> str:
    """The same address every time for the same person; nothing to guess the real one from."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"erased-user:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"erased-{digest[:12]}@{PSEUDONYM_DOMAIN}"


def email_digest(address: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"erased-email:{address}".encode(), hashlib.sha256).hexdigest()


def forget_person(*, email: str, actor: Actor) -> Erasure:
    """Replace one person's personal data everywhere with a stable pseudonym: their user row
    (address, names, login), login addresses and sessions, what orders, registrations, codes,
    notifications, stored API answers, attempt counters, saved and exported reports and the
    history of all of these say about them. Export files that name them are deleted (before
    the database changes: a file lost is rebuilt, a file kept is a leak). The ledger's entries
    and balances are untouched. Forgetting the same address again sweeps again.

    Raises:
        ValidationError: not an email address.
        NotFoundError: nobody has, or had, this address.
    """
    address = normalize_email(email)
    user = User.objects.filter(email__iexact=address).first()
    if user is None:
        erased = Erasure.objects.filter(email_digest=email_digest(address)).first()
        if erased is None:
            raise NotFoundError("Nobody has this email address.", details={"field": "email"})
        user = erased.user
    traces = Traces(
        email=address,
        names=person_names(user.name, user.get_full_name(), user.first_name, user.last_name)
        if user.email.lower() == address
        else (),
        pseudonym=pseudonym_for(user.pk),
    )
    removed = _remove_export_files(traces)
    return _erase(user_id=user.pk, address=address, traces=traces, removed=removed, actor=actor)


def _mentions(content: bytes, traces: Traces) -> bool:
    text = content.decode("utf-8", errors="ignore").lower()
    return any(
        needle.lower() in text or escape(needle).lower() in text for needle in traces.needles()
    )


def _export_mentions(name: str, traces: Traces) -> bool:
    with default_storage.open(name, "rb") as handle:
        content = handle.read()
    if zipfile.is_zipfile(io.BytesIO(content)):  # XLSX: the strings live in its XML parts
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return any(_mentions(book.read(part), traces) for part in book.namelist())
    return _mentions(content, traces)


def _remove_export_files(traces: Traces) -> list[int]:
    """Delete the export files that name the person; returns their exports' ids."""
    removed = []
    for export in ReportExport.objects.exclude(file="").only("pk", "file"):
        name = export.file.name or ""
        if not name:
            continue
        if not default_storage.exists(name) or _export_mentions(name, traces):
            default_storage.delete(name)
            removed.append(export.pk)
    return removed


@use_case
def _erase(
    *, user_id: int, address: str, traces: Traces, removed: list[int], actor: Actor
) -> Erasure:
    user = User.objects.select_for_update().get(pk=user_id)
    user.email = traces.pseudonym
    user.name = ERASED_NAME
    user.first_name = user.last_name = ""
    user.language = user.timezone = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.filter(Q(user_id=user_id) | Q(email__iexact=address)).delete()
    _end_sessions(user_id)
    # Mail not yet sent is not sent to a pseudonym; mail sent keeps its record, readdressed.
    EmailDelivery.objects.filter(
        user_id=user_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).delete()
    EmailDelivery.objects.filter(user_id=user_id).update(email=traces.pseudonym)
    for model, fields in [*TRACES_IN, *_history_models()]:
        scrub_rows(model, fields, traces)
    AttemptCounter.objects.filter(
        Q(key=str(user_id)) | Q(key__endswith=f":{user_id}"), scope=AttemptCounter.Scope.LEARNER
    ).delete()
    ReportExport.objects.filter(pk__in=removed).update(
        file="", status=ReportExport.Status.FAILED, error=EXPORT_REMOVED
    )
    erasure, created = Erasure.objects.get_or_create(
        user_id=user_id,
        defaults={
            "email_digest": email_digest(address),
            "pseudonym": traces.pseudonym,
            "actor": actor,
            "erased_at": clock.now(),
        },
    )
    if not created:
        Erasure.objects.filter(pk=erasure.pk).update(runs=models.F("runs") + 1)
        erasure.refresh_from_db()
    return erasure


def _end_sessions(user_id: int) -> None:
    mine = [
        session.pk
        for session in Session.objects.iterator(chunk_size=500)
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id)
    ]
    Session.objects.filter(pk__in=mine).delete()


def _history_models() -> list[tuple[type[Model], tuple[str, ...]]]:
    """Every history table of the product's records, with its text fields."""
    found = []
    for model in apps.get_models():
        if not (model.__name__.startswith("Historical") and model.__module__.startswith("tuition")):
            continue
        text = tuple(
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
            and not f.choices
            and f.name != "history_type"
        )
        if text:
            found.append((model, text))
    return found
