import pytest
import time_machine

from tuition.codes import limiter
from tuition.codes.models import AttemptCounter
from tuition.core.errors import TooManyAttemptsError

pytestmark = pytest.mark.django_db


def test_ten_failures_lock_a_learner_out_for_fifteen_minutes():
    keys = limiter.keys_for(learner_id=1, ip="10.0.0.1")
    with time_machine.travel("2026-05-01T10:00:00Z", tick=False):
        for _ in range(9):
            limiter.record_failure(keys)
        limiter.ensure_not_locked(keys)  # nine is still fine
        limiter.record_failure(keys)
        with pytest.raises(TooManyAttemptsError) as exc:
            limiter.ensure_not_locked(keys)
        assert exc.value.retry_after == 900 and exc.value.details["retry_after"] == 900
        # the IP key (limit 30) is not locked on its own
        limiter.ensure_not_locked(limiter.keys_for(ip="10.0.0.1"))
    with time_machine.travel("2026-05-01T10:15:01Z", tick=False):
        limiter.ensure_not_locked(keys)


def test_failures_outside_the_window_start_a_new_count():
    keys = limiter.keys_for(learner_id=2)
    with time_machine.travel("2026-05-01T10:00:00Z", tick=False):
        for _ in range(9):
            limiter.record_failure(keys)
    with time_machine.travel("2026-05-01T10:20:00Z", tick=False):
        limiter.record_failure(keys)
        limiter.ensure_not_locked(keys)
    assert AttemptCounter.objects.get(scope="learner", key="2").failures == 1
