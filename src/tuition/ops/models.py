from django.db import models


class Heartbeat(models.Model):
    """A long-running process saying it is alive: the task worker beats every few seconds,
    the periodic runner every tick. Readiness turns red when none of a role beat recently."""

    class Role(models.TextChoices):
        WORKER = "worker", "Task worker"
        PERIODIC = "periodic", "Periodic runner"

    name = models.CharField(max_length=128, unique=True, help_text="host:pid")
    role = models.CharField(max_length=16, choices=Role.choices)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.role} {self.name}"
