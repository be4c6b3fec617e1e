"""Records shared by every app: idempotency keys for value-moving requests."""

from django.db import models


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one client, and the first answer given to it.

    The record is claimed (`in_progress`) in its own short transaction before the work starts,
    so a concurrent request with the same key is told the first one is still running. The
    answer is stored in the same transaction as the change it answers for, so a `completed`
    record exists exactly when the change committed. A claim whose worker died is taken over
    once `locked_until` has passed. `scope` keeps one client's keys apart from another's.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    scope = models.CharField(max_length=120)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The answer's exact bytes (JSON text): a replay must not reorder keys.
    response_body = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    locked_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
