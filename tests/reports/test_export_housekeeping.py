"""Export files are removed after the retention period by a job, and every step of an export
(requested, built, downloaded, removed) is in the audit trail with its actor."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import AccountFactory, UserFactory, issue
from tuition.core import clock
from tuition.core.models import AuditEvent
from tuition.ledger.models import Transfer
from tuition.notifications import periodic
from tuition.notifications import tasks as notification_tasks
from tuition.reports import services, tasks
from tuition.reports.models import ReportExport

pytestmark = pytest.mark.django_db


def _ready_export(name: str, finished_days_ago: int) -> ReportExport:
    at = clock.now() - timedelta(days=finished_days_ago)
    stored = default_storage.save(f"reports/{name}", ContentFile(b"kind,amount\n"))
    return ReportExport.objects.create(
        report_type="ledger",
        columns=["kind", "amount"],
        format="csv",
        status=ReportExport.Status.READY,
        file=stored,
        filename=name,
        created_at=at,
        finished_at=at,
    )


def test_the_job_removes_exports_past_the_retention_period(settings, tmp_path):
    # given a 31-day-old export and a 29-day-old one (retention 30 days)
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TUITION = {**settings.TUITION, "EXPORT_RETENTION_DAYS": 30}
    old, recent = _ready_export("old.csv", 31), _ready_export("recent.csv", 29)
    old_file = old.file.name
    # when the periodic job runs
    removed = tasks.remove_old_exports.call()
    # then the old file and record are gone, the recent one stays
    assert removed == 1
    assert list(ReportExport.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not default_storage.exists(old_file) and default_storage.exists(recent.file.name)
    # and the removal is in the audit trail, by the job
    event = AuditEvent.objects.get(verb="export removed")
    assert (event.actor, event.interface, event.object_id) == (
        "job:remove_old_exports@job",
        "job",
        str(old.pk),
    )
    # and running again changes nothing
    assert tasks.remove_old_exports.call() == 0
    assert "remove_old_exports" in [job.name for job in periodic.jobs()]


def test_every_step_of_an_export_is_in_the_audit_trail(settings, tmp_path):
    # given a staff member
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    # when they ask for an export, the worker builds it and they download it
    from tuition.core.actors import Actor

    export = services.request_export(
        report_type="ledger",
        columns=["kind", "amount"],
        filters={},
        format="csv",
        actor=Actor.for_user(staff, via="admin"),
    )
    tasks.build_report_export.call(export_id=export.pk)
    download = client.get(reverse("reports:export-download", args=[export.pk]))
    assert download.status_code == 200
    # then
    steps = list(
        AuditEvent.objects.filter(object_type="reports.reportexport", object_id=str(export.pk))
        .order_by("id")
        .values_list("verb", "actor")
    )
    assert steps == [
        ("export requested", f"user:{staff.pk}@admin"),
        ("export built", "job:build_report_export@job"),
        ("export downloaded", f"user:{staff.pk}@admin"),
    ]


def test_the_expiry_job_books_transfers_as_the_job():
    # given a credit that has expired
    with time_machine.travel(clock.now() - timedelta(days=3), tick=False):
        issue(AccountFactory(), 100, days=1)
    # when the periodic expiry job runs
    notification_tasks.expire_credits.call()
    # then its transfer names the job
    assert Transfer.objects.get(kind=Transfer.Kind.EXPIRE).actor == "job:expire_credits@job"


def test_the_cron_command_removes_old_exports_as_the_command(settings, tmp_path, capsys):
    # given
    settings.MEDIA_ROOT = str(tmp_path)
    old = _ready_export("old.csv", 45)
    # when
    call_command("remove_old_exports")
    # then
    assert not ReportExport.objects.exists()
    event = AuditEvent.objects.get(verb="export removed", object_id=str(old.pk))
    assert event.actor == "job:remove_old_exports@command"
    assert "Removed 1 export(s)" in capsys.readouterr().out
