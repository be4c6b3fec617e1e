"""The staff area: Django's admin (permissions, lists, filters, actions, history, import)
under the provider's name, with a navigation that follows the domain instead of the Python
apps, and a home page that answers "how are we doing"."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entry:
    """One place in the navigation: a model's list (by "app_label.model_name"), or a URL
    name with a permission."""

    label: str | Promise
    model: str = ""
    url_name: str = ""
    query: str = ""
    perm: str = ""
    superuser_only: bool = False
    description: str | Promise = ""


@dataclass(frozen=True)
class Section:
    slug: str
    label: str | Promise
    entries: tuple[Entry, ...]
    commerce_only: bool = False
    description: str | Promise = ""


SECTIONS: tuple[Section, ...] = (
    Section(
        "discounts",
        _("Discounts"),
        (
            Entry(
                _("Training credits"),
                "ledger.lot",
                description=_(
                    "Prepaid value with a redemption code: issue, edit, deactivate, delete."
                ),
            ),
            Entry(_("Coupons"), "codes.coupon", description=_("Discount codes on the card price.")),
        ),
        commerce_only=True,
        description=_("Training credits and coupons."),
    ),
    Section(
        "accounts",
        _("Training accounts"),
        (
            Entry(
                _("Training accounts"),
                "accounts.trainingaccount",
                description=_("Organizations' wallets, their owners and members."),
            ),
            Entry(
                _("Redemption codes"),
                "codes.redemptioncode",
                description=_("Every code: a credit's own, account pool codes, member codes."),
            ),
            Entry(
                _("Ledger transfers"),
                "ledger.transfer",
                description=_("Every movement of value: issue, redeem, reverse, expire, void."),
            ),
            Entry(_("Ledger entries"), "ledger.entry", description=_("The legs of each transfer.")),
        ),
        description=_("Organizations' wallets, their codes and their ledger."),
    ),
    Section(
        "catalog",
        _("Catalog"),
        (
            Entry(
                _("Activities"),
                "catalog.activity",
                description=_("Courses, certifications and events, with USD and token prices."),
            ),
            Entry(
                _("Groups"),
                "catalog.group",
                description=_("Programs and bundles of activities, with their prices."),
            ),
            Entry(_("Sessions"), "catalog.session", description=_("Dated runs of an activity.")),
        ),
        description=_("What learners buy: activities, groups, sessions and token prices."),
    ),
    Section(
        "sales",
        _("Sales"),
        (
            Entry(
                _("Orders"), "checkout.order", description=_("Every checkout and what paid for it.")
            ),
            Entry(
                _("Refills"),
                "checkout.order",
                query="item_kind__exact=refill",
                description=_("Credits bought by account owners."),
            ),
            Entry(
                _("Automatic refills"),
                "autorefills.refillrule",
                description=_("Owners' threshold and monthly refills, and what each bought."),
            ),
            Entry(
                _("Registrations"),
                "checkout.registration",
                description=_("Learners' paid access; cancel and refund here."),
            ),
            Entry(_("Bookings"), "checkout.booking", description=_("Seats in dated sessions.")),
            Entry(_("Receipts"), "checkout.receipt"),
            Entry(_("Invoices"), "checkout.invoice"),
        ),
        description=_(
            "Orders, registrations, bookings, refills (also automatic), receipts and invoices."
        ),
    ),
    Section(
        "reports",
        _("Reports"),
        (
            Entry(
                _("Report builder"),
                url_name="reports:builder",
                perm="reports.view_savedreport",
                description=_("Choose columns and filters; preview; download CSV or XLSX."),
            ),
            Entry(
                _("Exports"),
                "reports.reportexport",
                description=_("Large files made in the background."),
            ),
        ),
        description=_("Build, save and download reports."),
    ),
    Section(
        "settings",
        _("Settings"),
        (
            Entry(
                _("Token types"),
                "ledger.unit",
                description=_("USD and the provider's token types."),
            ),
            Entry(
                _("Refill prices"),
                "catalog.refillprice",
                description=_("What owners pay per unit."),
            ),
            Entry(_("API keys"), "api.apikey", description=_("Keys for integrating systems.")),
            Entry(
                _("Webhooks"),
                "notifications.webhooksubscription",
                description=_("Endpoints that receive events."),
            ),
            Entry(
                _("Webhook deliveries"),
                "notifications.webhookdelivery",
                description=_("Each event sent to each endpoint, with its outcome."),
            ),
            Entry(
                _("Email deliveries"),
                "notifications.emaildelivery",
                description=_("Each notification email and its outcome."),
            ),
            Entry(
                _("Staff and people"), "accounts.user", description=_("Sign-ins and staff roles.")
            ),
            Entry(
                _("Roles (permission groups)"),
                "auth.group",
                superuser_only=True,
                description=_("What each staff role may do."),
            ),
            Entry(
                _("Email addresses"),
                "account.emailaddress",
                superuser_only=True,
                description=_("Sign-in addresses and their verification."),
            ),
            Entry(
                _("Task results"),
                "django_tasks_database.dbtaskresult",
                superuser_only=True,
                description=_("The background worker's queue."),
            ),
        ),
        description=_("Token types, prices, API keys, webhooks, staff and roles."),
    ),
    Section(
        "audit",
        _("Audit"),
        (
            Entry(
                _("Audit trail"),
                url_name="admin:audit",
                perm="core.view_auditevent",
                description=_("Every change: who made it, through which door, and when."),
            ),
        ),
        description=_("Who changed what, and when."),
    ),
)


@dataclass
class Link:
    label: str | Promise
    url: str
    description: str | Promise = ""
    count: int | None = None
    key: str = ""


@dataclass
class NavSection:
    slug: str
    label: str | Promise
    url: str
    description: str | Promise
    links: list[Link] = field(default_factory=list)


class StaffSite(admin.AdminSite):
    site_title = _("Staff")
    index_title = _("Home")
    enable_nav_sidebar = False
    # The sign-in page is the product's (allauth), not the admin's own form.
    login_template = None

    @property
    def site_header(self) -> str:  # type: ignore[override]
        return settings.TUITION["PROVIDER_NAME"]

    def get_urls(self):  # type: ignore[no-untyped-def]
        extra = [
            path("section/<slug:slug>/", self.admin_view(self.section_view), name="section"),
            path("audit/", self.admin_view(self.audit_view), name="audit"),
        ]
        return extra + super().get_urls()

    def login(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        from django.contrib.auth.views import redirect_to_login

        if request.user.is_authenticated and not request.user.is_staff:
            return super().login(request, extra_context)
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

    # --- navigation ----------------------------------------------------------------------

    def nav_sections(self, request: HttpRequest) -> list[NavSection]:
        """The sections and entries this person may open, in the domain's order."""
        from tuition.core.admin_support import commerce_enabled

        registered = {
            f"{m._meta.app_label}.{m._meta.model_name}": (m, ma) for m, ma in self._registry.items()
        }
        sections = []
        for section in SECTIONS:
            if section.commerce_only and not commerce_enabled():
                continue
            links = []
            for entry in section.entries:
                if entry.superuser_only and not request.user.is_superuser:
                    continue
                url = self._entry_url(request, entry, registered)
                if url:
                    links.append(
                        Link(entry.label, url, entry.description, key=entry.model or entry.url_name)
                    )
            if links:
                sections.append(
                    NavSection(
                        section.slug,
                        section.label,
                        reverse("admin:section", args=[section.slug]),
                        section.description,
                        links,
                    )
                )
        return sections

    def _entry_url(self, request, entry: Entry, registered) -> str:  # type: ignore[no-untyped-def]
        if entry.url_name:
            if entry.perm and not (request.user.is_superuser or request.user.has_perm(entry.perm)):
                return ""
            try:
                return reverse(entry.url_name)
            except NoReverseMatch:
                return ""
        found = registered.get(entry.model)
        if found is None:
            return ""
        model, model_admin = found
        if not model_admin.has_module_permission(request):
            return ""
        if not (
            model_admin.has_view_permission(request) or model_admin.has_change_permission(request)
        ):
            return ""
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=self.name)
        return f"{url}?{entry.query}" if entry.query else url

    def current_place(self, request: HttpRequest, sections: list[NavSection]) -> tuple[str, str]:
        """The section and the entry (its URL) the page being served belongs to."""
        match = getattr(request, "resolver_match", None)
        if match is None:
            return "", ""
        if match.url_name == "section":
            return str(match.kwargs.get("slug", "")), ""
        path_ = request.path
        query = request.GET.urlencode()
        best, best_url, best_len = "", "", 0
        for section in sections:
            for link in section.links:
                base, _, link_query = link.url.partition("?")
                if link_query and link_query not in query:
                    continue
                if path_.startswith(base) and len(link.url) > best_len:
                    best, best_url, best_len = section.slug, link.url, len(link.url)
        return best, best_url

    def each_context(self, request):  # type: ignore[no-untyped-def]
        context = super().each_context(request)
        if request.user.is_authenticated and request.user.is_staff:
            sections = self.nav_sections(request)
            current, current_url = self.current_place(request, sections)
            context["staff_sections"] = sections
            context["staff_current_section"] = current
            context["staff_current_url"] = current_url
            context["staff_section"] = next((s for s in sections if s.slug == current), None)
            context["staff_current_links"] = next(
                (s.links for s in sections if s.slug == current), []
            )
        context["provider_name"] = settings.TUITION["PROVIDER_NAME"]
        context["staff_time_zone"] = settings.TIME_ZONE
        return context

    # --- pages ---------------------------------------------------------------------------

    def index(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        from . import dashboard

        context = {
            **self.each_context(request),
            "title": _("How are we doing"),
            "subtitle": None,
            "dashboard": dashboard.summary(request, self),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/index.html", context)

    def app_index(self, request, app_label, extra_context=None):  # type: ignore[no-untyped-def]
        """An app's page is the domain section that holds its first model."""
        from django.shortcuts import redirect

        for section in self.nav_sections(request):
            for link in section.links:
                if link.key.startswith(f"{app_label}."):
                    return redirect("admin:section", slug=section.slug)
        return super().app_index(request, app_label, extra_context)

    def audit_view(self, request: HttpRequest) -> HttpResponse:
        from .audit import audit_view

        return audit_view(self, request)

    def section_view(self, request: HttpRequest, slug: str) -> HttpResponse:
        context = self.each_context(request)
        section = next((s for s in context.get("staff_sections", []) if s.slug == slug), None)
        if section is None:
            from django.http import Http404

            raise Http404(_("No such section."))
        context.update({"title": section.label, "section": section})
        return TemplateResponse(request, "admin/staff_section.html", context)
