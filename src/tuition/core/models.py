"""Records shared by every app: idempotency keys for value-moving requests."""

from django.db import models


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one client, and the first answer given to it.

    Written in the same transaction as the change it answers for (or, for a refusal, in the
    short transaction that records the refusal), so a record exists exactly when its answer
    holds (see `core.idempotency`). `scope` keeps one client's keys apart from another's.
    Records are always `completed`; `in_progress` and `locked_until` remain from claims made
    before the use case kept the record itself, and are cleared by a migration.
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
