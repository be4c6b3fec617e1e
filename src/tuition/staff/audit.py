"""The staff audit page: every recorded change, newest first, filterable by who did it, the
object, the kind of change and a date range (django-filter), paginated."""

from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from tuition.core.actors import INTERFACE_LABELS, describe, interface_label
from tuition.core.audit import verb_label
from tuition.core.display import when
from tuition.core.models import AuditEvent

PER_PAGE = 50
PERMISSION = "core.view_auditevent"


# Record types whose names are not in the catalogs (the API app's strings stay English there).
TYPE_LABELS = {"api.apikey": _("API key")}


def _type_label(object_type: str) -> str:
    if object_type in TYPE_LABELS:
        return str(TYPE_LABELS[object_type])
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return capfirst(str(model._meta.verbose_name))


def _who_choices() -> list[tuple[str, str]]:
    """The people, API keys and jobs that appear in the trail, by name."""
    pairs = list(
        AuditEvent.objects.exclude(actor_kind="")
        .values_list("actor_kind", "actor_id")
        .distinct()
        .order_by("actor_kind", "actor_id")[:500]
    )
    # Named without their interface: the same person through any door is one choice.
    shown = describe(f"{kind}:{ident}@job" for kind, ident in pairs)
    choices = []
    for kind, ident in pairs:
        view = shown.get(f"{kind}:{ident}@job")
        label = view.name if view else f"{kind}:{ident}"
        choices.append((f"{kind}:{ident}", label))
    return sorted(choices, key=lambda c: c[1].lower())


class AuditFilter(django_filters.FilterSet):
    who = django_filters.ChoiceFilter(
        label=_("Person, API key or job"), method="filter_who", empty_label=_("Anyone")
    )
    object_type = django_filters.ChoiceFilter(label=_("Object"), empty_label=_("Any object"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    verb = django_filters.ChoiceFilter(label=_("Change"), empty_label=_("Any change"))
    interface = django_filters.ChoiceFilter(label=_("Through"), empty_label=_("Any way"))
    since = django_filters.DateFilter(
        label=_("Changed on or after"),
        field_name="at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label=_("Changed on or before"),
        field_name="at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["who", "object_type", "object_id", "verb", "interface", "since", "until"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["who"].extra["choices"] = _who_choices()
        types = (
            AuditEvent.objects.values_list("object_type", flat=True)
            .distinct()
            .order_by("object_type")
        )
        self.filters["object_type"].extra["choices"] = sorted(
            ((t, _type_label(t)) for t in types), key=lambda c: c[1]
        )
        verbs = AuditEvent.objects.values_list("verb", flat=True).distinct().order_by("verb")
        self.filters["verb"].extra["choices"] = sorted(
            ((v, verb_label(v)) for v in verbs), key=lambda c: c[1].lower()
        )
        # Built per form, so the labels are in the language of the request.
        self.filters["interface"].extra["choices"] = [
            (k, capfirst(str(v))) for k, v in INTERFACE_LABELS.items()
        ]

    def filter_who(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        kind, _, ident = value.partition(":")
        return queryset.filter(actor_kind=kind, actor_id=ident)


@dataclass
class Row:
    at: str
    at_iso: str
    who: str
    interface: str
    verb: str
    summary: str
    object_label: str
    object_url: str


def _object_url(object_type: str, object_id: str) -> str:
    app_label, _, model = object_type.partition(".")
    if not object_id:
        return ""
    if object_type == "api.apikey":  # named by prefix in the trail; the admin wants its id
        key = apps.get_model("api", "ApiKey").objects.filter(prefix=object_id).first()
        object_id = key.pk if key else ""
        if not object_id:
            return ""
    try:
        return reverse(f"admin:{app_label}_{model}_change", args=[object_id])
    except NoReverseMatch:
        return ""


def rows(events: list[AuditEvent]) -> list[Row]:
    shown = describe(e.actor for e in events)
    out = []
    for event in events:
        view = shown[event.actor or ""]
        out.append(
            Row(
                at=when(event.at),
                at_iso=event.at.isoformat(),
                who=view.name if event.interface else view.display,
                interface=interface_label(event.interface),
                verb=verb_label(event.verb),
                summary=event.summary,
                object_label=f"{_type_label(event.object_type)} #{event.object_id}"
                if event.object_id
                else _type_label(event.object_type),
                object_url=_object_url(event.object_type, event.object_id),
            )
        )
    return out


def audit_view(site: Any, request: HttpRequest) -> HttpResponse:
    if not (request.user.is_superuser or request.user.has_perm(PERMISSION)):
        raise PermissionDenied
    filterset = AuditFilter(request.GET or None, queryset=AuditEvent.objects.order_by("-at", "-id"))
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    if filterset.is_bound and not filterset.is_valid():
        queryset = queryset.none()
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **site.each_context(request),
        "title": _("Audit trail"),
        "filter": filterset,
        "page_obj": page,
        "rows": rows(list(page.object_list)),
        "query": query.urlencode(),
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
    }
    request.current_app = site.name
    return TemplateResponse(request, "staff/audit.html", context)
