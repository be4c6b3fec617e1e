"""API keys of integrating systems (CRM, sales, payment systems, other LMSs)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from tuition.core.actors import Actor

SCOPE_CREDITS_READ = "credits:read"
SCOPE_CREDITS_WRITE = "credits:write"
SCOPE_CHECKOUT = "checkout"
SCOPE_REPORTS = "reports"
SCOPE_ADMIN = "admin"
SCOPES = [SCOPE_CREDITS_READ, SCOPE_CREDITS_WRITE, SCOPE_CHECKOUT, SCOPE_REPORTS, SCOPE_ADMIN]


class ApiKey(AbstractAPIKey):
    """A key acting for the provider. Only the prefix and a hash of the key are stored.

    `scopes` limits what the key may do; `admin` implies every other scope.
    """

    scopes = models.JSONField(default=list, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")  # type: ignore[assignment]
        verbose_name_plural = _("API keys")  # type: ignore[assignment]

    def allows(self, scope: str) -> bool:
        return SCOPE_ADMIN in self.scopes or scope in self.scopes

    @property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.prefix)
