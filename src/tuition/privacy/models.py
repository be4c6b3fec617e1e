"""What is left of a person who asked to be forgotten: their pseudonym, never their address."""

from django.conf import settings
from django.db import models


class Erasure(models.Model):
    """One forgotten person. `email_digest` is a keyed hash of the address they had, so asking
    to forget the same address again is recognised without keeping the address itself."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure"
    )
    email_digest = models.CharField(max_length=64, unique=True)
    pseudonym = models.CharField(max_length=254)
    actor = models.CharField(max_length=200)
    erased_at = models.DateTimeField()
    # How often it ran: forgetting again sweeps again, for rows written since.
    runs = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-erased_at", "-id"]
        permissions = [("forget_person", "Can forget a person (erase their personal data)")]

    def __str__(self) -> str:
        return self.pseudonym
