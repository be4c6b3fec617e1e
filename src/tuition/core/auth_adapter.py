"""django-allauth, told where the client really is and where people land after signing in.

Its login and sign-up rate limits key on the same client IP as the code-entry limits
(`tuition.core.http.client_ip`). Staff land on the staff home, everyone else where they did
before (LOGIN_REDIRECT_URL); a `next` address still wins, as allauth does it.
"""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

from .http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)
