"""The staff's "Forget this person" action on a person's page, with a confirmation page.

Only staff holding `privacy.forget_person` (superusers hold every permission) see and use it.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from tuition.accounts.admin import UserAdmin as PersonAdmin
from tuition.accounts.models import User
from tuition.core.admin_support import actor_of
from tuition.core.errors import DomainError

from .models import Erasure
from .selectors import erasure_scope
from .services import forget_person

FORGET_PERMISSION = "privacy.forget_person"


def may_forget(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.has_perm(FORGET_PERMISSION))  # type: ignore[union-attr]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(PersonAdmin):
    def get_urls(self):  # type: ignore[no-untyped-def]
        extra = [
            path(
                "<int:user_id>/forget/",
                self.admin_site.admin_view(self.forget_view),
                name="accounts_user_forget",
            )
        ]
        return extra + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        extra_context = {
            **(extra_context or {}),
            "may_forget": may_forget(request),
            "already_forgotten": str(object_id).isdigit()
            and Erasure.objects.filter(user_id=int(object_id)).exists(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def forget_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        if not may_forget(request):
            raise PermissionDenied
        person = get_object_or_404(User, pk=user_id)
        back = reverse("admin:accounts_user_change", args=[person.pk])
        error = ""
        if request.method == "POST":
            try:
                erasure = forget_person(email=person.email, actor=actor_of(request))
            except DomainError as exc:
                error = str(exc.message)
            else:
                self.message_user(
                    request,
                    f"The person was forgotten: they are now {erasure.pseudonym}. "
                    "Their ledger entries and balances are unchanged.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": "Forget this person",
            "opts": self.model._meta,
            "person": person,
            "scope": erasure_scope(person),
            "error": error,
            "back": back,
        }
        return TemplateResponse(request, "admin/accounts/user/forget.html", context)
