"""Pages: the staff report builder, export downloads, and owners' statement and usage files.

The builder keeps its whole state in the query string (type, columns in order, filters), so
every step is a plain GET form that works without JavaScript and under a strict CSP; a
column move is a submit button whose value names the move, answered by a redirect to the
new state. Saving and deleting definitions are POST forms.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from tuition.accounts.models import TrainingAccount
from tuition.catalog.models import Activity, Group
from tuition.checkout.models import Order
from tuition.core import clock
from tuition.core.actors import ADMIN, Actor
from tuition.core.errors import DomainError
from tuition.ledger.models import Transfer, Unit

from . import runner, services, writers
from .errors import ExportNotReadyError
from .filters import FILTER_LABELS
from .models import ReportExport, SavedReport
from .registry import REPORTS, listed_reports
from .selectors import owned_account

KIND_LABELS = {
    "text": gettext_lazy("text"),
    "date": gettext_lazy("date"),
    "amount": gettext_lazy("amount"),
    "int": gettext_lazy("number"),
}
# "Activity: Title" in the item picker, in the reader's language (and read back in it).
ITEM_PREFIXES = {"activity": gettext_lazy("Activity: "), "group": gettext_lazy("Group: ")}


@dataclass(frozen=True)
class ShownColumn:
    key: str
    label: Any
    kind_label: Any


def _shown(column: Any) -> ShownColumn:
    return ShownColumn(column.key, column.label, KIND_LABELS.get(column.kind, column.kind))


def _status_words() -> dict[str, str]:
    words = {
        "active": gettext("Active"),
        "inactive": gettext("Inactive"),
        "expired": gettext("Expired"),
        "deleted": gettext("Deleted"),
    }
    words.update({str(k): str(v) for k, v in Order.Status.choices})
    words.update({str(k): str(v) for k, v in Transfer.Kind.choices})
    return words


def _resolve_names(filters: dict[str, str]) -> dict[str, str]:
    """Accounts and items are picked by name; the definition keeps their ids."""
    account = filters.get("account", "")
    if account and not account.isdigit():
        found = TrainingAccount.objects.filter(name__iexact=account).order_by("pk").first()
        if found is not None:
            filters["account"] = str(found.pk)
    item = filters.get("item", "")
    for kind, model in (("activity", Activity), ("group", Group)):
        prefix = str(ITEM_PREFIXES[kind])
        if item.lower().startswith(prefix.lower()):
            title = item[len(prefix) :].strip()
            found_item = model.objects.filter(title__iexact=title).order_by("pk").first()
            if found_item is not None:
                filters["item"] = f"{kind}:{found_item.pk}"
    return filters


def _shown_value(name: str, value: str) -> str:
    """A filter's value as the picker shows it: a name, never an id."""
    if name == "account" and value.isdigit():
        account = TrainingAccount.objects.filter(pk=int(value)).first()
        return account.name if account else value
    if name == "item" and ":" in value:
        kind, _, pk = value.partition(":")
        model = {"activity": Activity, "group": Group}.get(kind)
        if model is not None and pk.isdigit():
            item = model.objects.filter(pk=int(pk)).first()
            if item is not None:
                return f"{ITEM_PREFIXES[kind]}{item.title}"
    return value


def _options(name: str) -> list[str]:
    if name == "account":
        return list(TrainingAccount.objects.order_by("name").values_list("name", flat=True)[:500])
    if name == "item":
        return [
            *(
                f"{ITEM_PREFIXES['activity']}{t}"
                for t in Activity.objects.order_by("title").values_list("title", flat=True)[:500]
            ),
            *(
                f"{ITEM_PREFIXES['group']}{t}"
                for t in Group.objects.order_by("title").values_list("title", flat=True)[:500]
            ),
        ]
    return []


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A report page inside the staff area (its header, navigation and look)."""
    from django.contrib import admin

    return render(request, template, {**admin.site.each_context(request), **context}, status=status)


def _state(request: HttpRequest) -> tuple[str, list[str], dict[str, str]]:
    params = request.GET if request.method == "GET" else request.POST
    report_type = params.get("type") or "purchases"
    if report_type not in REPORTS or not REPORTS[report_type].listed:
        report_type = "purchases"
    report = REPORTS[report_type]
    columns = [c for c in params.getlist("columns") if c]
    if not columns and "columns" not in params:
        columns = list(report.default_columns)
    filters = {name: params.get(name, "").strip() for name in report.filters}
    return report_type, columns, _resolve_names({k: v for k, v in filters.items() if v})


def _url(report_type: str, columns: list[str], filters: dict[str, str], **extra: str) -> str:
    query = [
        ("type", report_type),
        *[("columns", c) for c in columns],
        *filters.items(),
        *extra.items(),
    ]
    return f"{reverse('reports:builder')}?{urlencode(query)}"


def _apply(op: str, columns: list[str]) -> list[str]:
    action, _, key = op.partition(":")
    columns = list(columns)
    if action == "add" and key not in columns:
        columns.append(key)
    elif key in columns:
        i = columns.index(key)
        if action == "remove":
            columns.pop(i)
        elif action == "up" and i > 0:
            columns[i - 1], columns[i] = columns[i], columns[i - 1]
        elif action == "down" and i < len(columns) - 1:
            columns[i + 1], columns[i] = columns[i], columns[i + 1]
    return columns


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, via=ADMIN)


@staff_member_required
def builder(request: HttpRequest) -> HttpResponse:
    report_type, columns, filters = _state(request)
    report = REPORTS[report_type]
    if "choose" in request.GET:  # a new type starts from its default columns
        return redirect(_url(report_type, list(report.default_columns), {}))
    op = request.GET.get("op", "")
    if op:
        return redirect(_url(report_type, _apply(op, columns), filters))

    error: DomainError | None = None
    rows: list[list[str]] | None = None
    chosen = [_shown(report.column(c)) for c in columns if c in {x.key for x in report.columns}]
    download = request.GET.get("download")
    try:
        if download or "preview" in request.GET:
            spec = runner.prepare(
                report_type=report_type, columns=columns, filters=filters, format=download or "csv"
            )
            if download:
                if runner.needs_worker(spec):
                    export = services.request_export(
                        report_type=report_type,
                        columns=columns,
                        filters=filters,
                        format=download,
                        actor=_actor(request),
                        user=request.user,
                    )
                    return redirect("reports:export", export_id=export.pk)
                return runner.file_response(spec)
            rows = runner.preview(spec)
    except DomainError as exc:
        error = exc

    context: dict[str, Any] = {
        "reports": listed_reports(),
        "report": report,
        "chosen": chosen,
        "available": [_shown(c) for c in report.columns if c.key not in columns],
        "columns": columns,
        "filters": [
            {
                "name": n,
                "label": FILTER_LABELS[n],
                "value": filters.get(n, ""),
                "shown": _shown_value(n, filters.get(n, "")),
                "choices": _filter_choices(report, n),
                "options": _options(n),
                "placeholder": gettext("Type a name")
                if n == "account"
                else gettext("Type a title"),
                "kind": "date" if n in ("from", "to", "at") else "text",
            }
            for n in report.filters
        ],
        "filter_values": filters,
        "rows": rows,
        "error": error,
        "saved": [
            (s, _url(s.report_type, s.columns, s.filters)) for s in SavedReport.objects.all()
        ],
        "exports": ReportExport.objects.all()[:10],
    }
    return _page(request, "reports/builder.html", context, status=400 if error else 200)


def _filter_choices(report: Any, name: str) -> list[tuple[str, str]]:
    words = _status_words()
    if name == "status":
        return [(s, words.get(s, s.replace("_", " ").capitalize())) for s in report.statuses]
    if name == "kind":
        return [(k, words.get(k, k.capitalize())) for k in report.kinds]
    if name == "unit":
        return [(u.code, f"{u.code} · {u.name}") for u in Unit.objects.all()]
    return []


@staff_member_required
@require_POST
def save(request: HttpRequest) -> HttpResponse:
    report_type, columns, filters = _state(request)
    try:
        saved = services.save_report(
            name=request.POST.get("name", ""),
            report_type=report_type,
            columns=columns,
            filters=filters,
            actor=_actor(request),
            owner=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Saved “%(name)s”.") % {"name": saved.name})
    return redirect(_url(report_type, columns, filters))


@staff_member_required
@require_POST
def delete_saved(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        services.delete_saved_report(report_id=report_id, actor=_actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reports:builder")


@staff_member_required
def export_status(request: HttpRequest, export_id: int) -> HttpResponse:
    export = ReportExport.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404
    return _page(request, "reports/export.html", {"export": export})


@staff_member_required
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    export = ReportExport.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404
    if export.status != ReportExport.Status.READY or not export.file:
        raise Http404(ExportNotReadyError.message)
    services.note_export_download(export_id=export.pk, actor=_actor(request))
    return export_file_response(export)


def export_file_response(export: ReportExport) -> FileResponse:
    content_type = (
        "text/csv; charset=utf-8"
        if export.format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = FileResponse(default_storage.open(export.file.name, "rb"), content_type=content_type)
    stem, _, extension = export.filename.rpartition(".")
    response["Content-Disposition"] = writers.content_disposition(stem, extension)
    response["Cache-Control"] = "no-store"
    return response


# --- owners (SPEC rule 25) -------------------------------------------------------------------


def _owner_download(request: HttpRequest, account_id: int, report_key: str) -> HttpResponse:
    account = owned_account(request.user, account_id)
    if account is None:
        raise Http404("No such account.")
    raw = {
        "account": str(account.pk),
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
    }
    try:
        spec = runner.prepare(
            report_type=report_key,
            filters=raw,
            format=request.GET.get("format") or "csv",
            listed_only=False,
        )
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    label = "statement" if report_key == "statement" else "usage"
    day = clock.now().strftime("%Y-%m-%d")
    return runner.file_response(spec, name=f"{account.name}-{label}-{day}")


@login_required
def account_statement(request: HttpRequest, account_id: int) -> HttpResponse:
    return _owner_download(request, account_id, "statement")


@login_required
def account_usage(request: HttpRequest, account_id: int) -> HttpResponse:
    return _owner_download(request, account_id, "usage")
