"""Where people land after signing in: staff on the staff home, everyone else where they
did before (LOGIN_REDIRECT_URL). A `next` address still wins, as allauth does it."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)
