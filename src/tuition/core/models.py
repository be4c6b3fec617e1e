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


class AuditEvent(models.Model):
    """One change to the provider's records: who (an actor reference), through which interface,
    what kind of change, to which object, and when.

    Written in the same transaction as the change it records. It holds references only (user
    ids, API key prefixes, job names) so erasing a person never has to touch it; `summary` is
    a short description of the change in the product's words, never personal data.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=200, blank=True, default="")
    actor_kind = models.CharField(max_length=16, blank=True, default="")
    actor_id = models.CharField(max_length=64, blank=True, default="")
    interface = models.CharField(max_length=16, blank=True, default="")
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True, default="")
    summary = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor_kind", "actor_id", "-at"], name="audit_by_actor"),
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_by_object"),
        ]
        verbose_name = "audit event"

    def __str__(self) -> str:
        return f"{self.verb} {self.object_type} {self.object_id}".strip()
