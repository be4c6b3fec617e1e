from datetime import timedelta

import pytest

from tests.factories import TokenUnitFactory, make_activity, make_session, usd
from tuition.catalog import services as catalog
from tuition.catalog.selectors import Item, price_in_unit
from tuition.core import clock
from tuition.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def test_prices_in_usd_and_tokens():
    tokens = TokenUnitFactory()
    activity = make_activity(price=30000, token_prices={tokens: 3})
    item = Item("activity", activity)
    assert price_in_unit(item, usd()) == 30000 and price_in_unit(item, tokens) == 3
    catalog.update_activity(activity_id=activity.pk, actor="s", token_prices={})
    assert price_in_unit(item, tokens) is None


def test_a_first_session_makes_the_activity_dated_and_sessions_are_validated():
    activity = make_activity()
    make_session(activity, capacity=5)
    activity.refresh_from_db()
    assert activity.is_dated
    start = clock.now() + timedelta(days=1)
    with pytest.raises(ValidationError):
        catalog.create_session(
            activity_id=activity.pk, starts_at=start, ends_at=start, capacity=5, actor="s"
        )
    with pytest.raises(ValidationError):
        catalog.create_session(
            activity_id=activity.pk,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            capacity=5,
            timezone="Mars/Olympus",
            actor="s",
        )


def test_groups_hold_activities_and_refuse_unknown_ones():
    a, b = make_activity(title="A"), make_activity(title="B")
    group = catalog.create_group(title="Path", price=50000, activity_ids=[a.pk, b.pk], actor="s")
    assert set(group.activities.values_list("pk", flat=True)) == {a.pk, b.pk}
    with pytest.raises(ValidationError):
        catalog.create_group(title="Bad", activity_ids=[a.pk + 999], actor="s")
