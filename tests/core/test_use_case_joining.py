"""A use case owns its transaction; one that runs inside another's says so at the call
(`.joining`), and nothing joins silently."""

import pytest
from django.db import transaction

from tuition.catalog import services as catalog
from tuition.catalog.models import Activity
from tuition.core.transactions import NestedUseCaseError


@pytest.mark.django_db(transaction=True)
def test_a_plain_call_inside_an_open_transaction_is_refused_and_writes_nothing():
    with (
        pytest.raises(NestedUseCaseError, match=r"create_activity\.joining"),
        transaction.atomic(),
    ):
        catalog.create_activity(title="Inside", actor="t")
    assert not Activity.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_joining_runs_in_the_callers_transaction_and_rolls_back_with_it():
    # when a caller joins the use case and then fails
    with pytest.raises(RuntimeError, match="the caller failed"), transaction.atomic():
        activity = catalog.create_activity.joining(title="Joined", actor="t")
        assert Activity.objects.filter(pk=activity.pk).exists()
        raise RuntimeError("the caller failed")
    # then the joined use case's write went with the caller's rollback
    assert not Activity.objects.exists()

    # and when the caller commits, so does the joined work
    with transaction.atomic():
        catalog.create_activity.joining(title="Joined", actor="t")
    assert Activity.objects.get().title == "Joined"


@pytest.mark.django_db(transaction=True)
def test_joining_without_an_open_transaction_is_refused():
    with pytest.raises(NestedUseCaseError, match="needs an open transaction"):
        catalog.create_activity.joining(title="Alone", actor="t")
    assert not Activity.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_plain_call_outside_any_transaction_commits_on_its_own():
    catalog.create_activity(title="Own", actor="t")
    assert Activity.objects.get().title == "Own"
