import pytest
import time_machine

from tuition.codes import limiter
from tuition.codes.models import AttemptCounter
from tuition.core.errors import TooManyAttemptsError

pytestmark = pytest.mark.django_db


def _fail(keys):
    limiter.count_failure(keys)


def test_ten_failures_lock_a_learner_out_for_fifteen_minutes():
    keys = limiter.keys_for(learner_id=1, ip="10.0.0.1")
    with time_machine.travel("2026-05-01T10:00:00Z", tick=False):
        for _ in range(9):
            _fail(keys)
        limiter.ensure_not_locked(keys)  # nine is still fine
        _fail(keys)
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
            _fail(keys)
    with time_machine.travel("2026-05-01T10:20:00Z", tick=False):
        _fail(keys)
        limiter.ensure_not_locked(keys)
    assert AttemptCounter.objects.get(scope="learner", key="2").failures == 1


def test_an_api_key_counts_its_learner_apart_and_never_the_ip():
    # given the same learner entering codes on the pages and through an integrating system
    page_keys = limiter.keys_for(learner_id=3, ip="10.0.0.3")
    api_keys = limiter.keys_for(learner_id=3, ip="10.0.0.3", api_key="Xk3vQ9aB")
    # then the API's entries count against that key's view of the learner only
    assert api_keys == [(AttemptCounter.Scope.LEARNER, "Xk3vQ9aB:3")]
    with time_machine.travel("2026-05-01T10:00:00Z", tick=False):
        for _ in range(10):
            _fail(api_keys)
        with pytest.raises(TooManyAttemptsError):
            limiter.ensure_not_locked(api_keys)
        limiter.ensure_not_locked(page_keys)  # the pages' learner and IP are not locked
