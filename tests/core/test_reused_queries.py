"""Reads and inserts compiled once (core.reused_queries) give what the ORM gives, with each
call's own values, on each thread's own connection; a builder they cannot reuse is refused."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext

from tuition.accounts.models import TrainingAccount
from tuition.catalog import services as catalog
from tuition.catalog.models import Activity, Session
from tuition.checkout.models import Invoice
from tuition.core import clock
from tuition.core.reused_queries import ReusedQuery, ReusedQueryError, insert, insert_many
from tuition.core.round_trips import Rows, one_round_trip
from tuition.ledger.models import Transfer, Unit


def _sessions(*, activity_id, starts_after, with_activity):
    sessions = Session.objects.filter(activity_id=activity_id, starts_at__gt=starts_after)
    if with_activity:
        sessions = sessions.select_related("activity")
    later = Session.objects.filter(
        activity_id=OuterRef("activity_id"), starts_at__gt=OuterRef("starts_at")
    )
    return sessions.annotate(has_later=Exists(later)).order_by("starts_at")


SESSIONS = ReusedQuery(_sessions, values=("activity_id", "starts_after"))


def _dated_activity(title: str, hours: list[int]) -> Activity:
    activity = catalog.create_activity(title=title, price=100, is_dated=True, actor="t")
    now = clock.now()
    for h in hours:
        starts = now + timedelta(hours=h)
        Session.objects.create(
            activity=activity, starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=5
        )
    return activity


@pytest.mark.django_db
def test_a_reused_read_gives_each_calls_own_rows_like_the_orm():
    first = _dated_activity("First", [1, 5, 9])
    second = _dated_activity("Second", [2, 3])
    now = clock.now()

    for activity, after in ((first, now), (second, now), (first, now + timedelta(hours=4))):
        got = SESSIONS.fetch(activity_id=activity.pk, starts_after=after, with_activity=True)
        expected = list(_sessions(activity_id=activity.pk, starts_after=after, with_activity=True))
        assert [(s.pk, s.starts_at, s.has_later) for s in got] == [
            (s.pk, s.starts_at, s.has_later) for s in expected
        ]
        with CaptureQueriesContext(connection) as reads:
            assert {s.activity.title for s in got} == {activity.title}  # read with it
        assert len(reads) == 0
    assert [
        s.has_later
        for s in SESSIONS.fetch(activity_id=first.pk, starts_after=now, with_activity=True)
    ] == [True, True, False]

    # a shape argument (here a bool) gets a compilation of its own; the values do not
    SESSIONS.fetch(activity_id=first.pk, starts_after=now, with_activity=False)
    shapes = [key for key in SESSIONS._compiled if key[0] == "default"]
    assert len(shapes) == 2


@pytest.mark.django_db
def test_a_value_that_is_none_is_shape_and_reads_is_null():
    unit = Unit.objects.get(code="USD")
    by_reverses = ReusedQuery(
        lambda *, unit_id, reverses_id: Transfer.objects.filter(
            unit_id=unit_id, reverses_id=reverses_id
        ),
        values=("unit_id", "reverses_id"),
    )
    assert by_reverses.fetch(unit_id=unit.pk, reverses_id=None) == []
    assert by_reverses.fetch(unit_id=unit.pk, reverses_id=12345) == []


@pytest.mark.django_db
def test_a_builder_that_changes_a_value_is_refused_at_its_first_call():
    sliced = ReusedQuery(
        lambda *, title: Activity.objects.filter(title=title[:3]), values=("title",)
    )
    with pytest.raises(ReusedQueryError, match="'title' does not reach the SQL"):
        sliced.fetch(title="Leadership")
    flag = ReusedQuery(
        lambda *, published: Activity.objects.filter(is_published=published), values=("published",)
    )
    with pytest.raises(ReusedQueryError, match="must be a string, an integer or a datetime"):
        flag.fetch(published=True)


@pytest.mark.django_db(transaction=True)
def test_another_thread_runs_the_reused_read_on_its_own_connection():
    activity = _dated_activity("Threads", [1, 2])
    now = clock.now()
    assert len(SESSIONS.fetch(activity_id=activity.pk, starts_after=now, with_activity=True)) == 2
    outcome = {}

    def read() -> None:
        try:
            outcome["rows"] = SESSIONS.fetch(
                activity_id=activity.pk,
                starts_after=now + timedelta(minutes=90),
                with_activity=True,
            )
        except Exception as exc:  # a connection used across threads raises here
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert "error" not in outcome
    assert [s.starts_at > now + timedelta(minutes=90) for s in outcome["rows"]] == [True]


@pytest.mark.django_db
def test_the_check_setting_finds_a_reuse_that_would_ask_something_else(settings):
    settings.TUITION_CHECK_REUSED_QUERIES = True
    activity = _dated_activity("Checked", [1])
    now = clock.now()
    SESSIONS.fetch(activity_id=activity.pk, starts_after=now, with_activity=True)
    # when the stored compilation no longer matches what the builder builds
    for key, compiled in list(SESSIONS._compiled.items()):
        SESSIONS._compiled[key] = type(compiled)(
            compiled.queryset, compiled.compiler, compiled.sql.replace(">", ">="), compiled.params
        )
    try:
        with pytest.raises(ReusedQueryError, match="differs from its fresh compilation"):
            SESSIONS.fetch(activity_id=activity.pk, starts_after=now, with_activity=True)
    finally:
        SESSIONS._compiled.clear()


@pytest.mark.django_db
def test_insert_saves_the_row_as_save_would_and_gives_it_its_key():
    account = TrainingAccount.objects.create(name="Acme")
    unit = Unit.objects.get(code="USD")
    at = clock.now()
    made = insert(
        Transfer(
            kind="issue",
            unit=unit,
            account=account,
            amount=250,
            created_at=at,
            actor="t",
            metadata={"a": [1]},
        )
    )
    assert made.pk is not None and not made._state.adding
    stored = Transfer.objects.get(pk=made.pk)
    assert (stored.kind, stored.account_id, stored.amount, stored.created_at, stored.metadata) == (
        "issue",
        account.pk,
        250,
        at,
        {"a": [1]},
    )
    # a second row reuses the compiled INSERT and gets a key of its own
    again = insert(
        Transfer(kind="issue", unit=unit, account=account, amount=1, created_at=at, actor="t")
    )
    assert again.pk != made.pk and Transfer.objects.count() == 2


@pytest.mark.django_db
def test_insert_of_a_model_someone_listens_to_goes_through_save():
    # the history of an activity is written by a post_save receiver: it must still run
    activity = insert(Activity(title="Listened to", price=1))
    assert activity.created_at is not None
    assert list(activity.history.values_list("title", flat=True)) == ["Listened to"]
    # and a receiver connected later is heard too (here pre_save, before the database refuses
    # an invoice of no order)
    heard = []

    def receiver(sender, instance, **kwargs):
        heard.append(instance)

    pre_save.connect(receiver, sender=Invoice)
    order_less = Invoice(
        year=2026,
        sequence=1,
        number="INV-TEST",
        issued_at=clock.now(),
        amount=1,
        unit=Unit.objects.get(code="USD"),
        list_price=1,
    )
    try:
        with pytest.raises(IntegrityError), transaction.atomic():
            insert(order_less)
    finally:
        pre_save.disconnect(receiver, sender=Invoice)
    assert heard == [order_less]


@pytest.mark.django_db
def test_insert_many_writes_every_row_and_gives_each_its_own_key_in_order():
    account = TrainingAccount.objects.create(name="Acme")
    unit = Unit.objects.get(code="USD")
    at = clock.now()
    for count in (2, 3, 2):  # two row counts; the second batch of two reuses the first's
        rows = insert_many(
            [
                Transfer(
                    kind="issue",
                    unit=unit,
                    account=account,
                    amount=100 + i,
                    created_at=at,
                    actor=f"batch of {count}",
                    metadata={"i": i},
                )
                for i in range(count)
            ]
        )
        stored = {
            t.pk: (t.amount, t.metadata)
            for t in Transfer.objects.filter(pk__in=[r.pk for r in rows])
        }
        assert [stored[r.pk] for r in rows] == [(100 + i, {"i": i}) for i in range(count)]
        assert all(not r._state.adding for r in rows)
    assert Transfer.objects.count() == 7
    assert insert_many([]) == []


SESSION_VALUES = ReusedQuery(
    lambda *, activity_id, starts_after: (
        Session.objects.filter(activity_id=activity_id, starts_at__gt=starts_after)
        .order_by("starts_at")
        .values_list("pk", "starts_at", "capacity")
    ),
    values=("activity_id", "starts_after"),
)


@pytest.mark.django_db
def test_a_sent_read_gives_the_rows_fetch_gives_in_a_batch_or_alone():
    first = _dated_activity("First", [1, 5, 9])
    _dated_activity("Second", [2])
    after = clock.now() + timedelta(hours=2)
    expected = list(
        Session.objects.filter(activity_id=first.pk, starts_at__gt=after)
        .order_by("starts_at")
        .values_list("pk", "starts_at", "capacity")
    )
    assert len(expected) == 2

    alone, batched = Rows(), Rows()
    SESSION_VALUES.send(alone.keep, activity_id=first.pk, starts_after=after)
    with transaction.atomic(), one_round_trip():
        SESSION_VALUES.send(batched.keep, activity_id=first.pk, starts_after=after)
        assert connection.vendor != "postgresql" or batched.rows == []  # not back yet
    assert alone.rows == batched.rows == expected
    assert SESSION_VALUES.fetch(activity_id=first.pk, starts_after=after) == expected
    # datetimes come back as the ORM gives them (aware), on SQLite too
    assert all(starts.tzinfo is not None for _, starts, _ in alone.rows)


@pytest.mark.django_db
def test_send_refuses_a_read_of_whole_rows():
    whole = ReusedQuery(
        lambda *, activity_id: Session.objects.filter(activity_id=activity_id),
        values=("activity_id",),
    )
    with pytest.raises(ReusedQueryError):
        whole.send(Rows().keep, activity_id=1)
