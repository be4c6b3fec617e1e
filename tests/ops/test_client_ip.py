import json

import pytest
from allauth.account.adapter import get_adapter
from django.test import Client, RequestFactory

from tests.factories import UserFactory
from tuition.catalog import services as catalog
from tuition.codes.models import AttemptCounter
from tuition.core.http import client_ip


@pytest.fixture
def proxies(settings):
    def trust(*entries: str) -> None:
        settings.TUITION = {**settings.TUITION, "TRUSTED_PROXIES": list(entries)}

    return trust


def _request(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_forwarded_for_is_ignored(proxies):
    # given no trusted proxy (the default)
    proxies()
    # when a client sends its own X-Forwarded-For
    # then the peer's address counts, not the claim
    assert client_ip(_request("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(proxies):
    # given nginx on 10.0.0.2 is trusted
    proxies("10.0.0.0/24")
    # when someone else connects directly and claims an address
    # then it is ignored
    assert client_ip(_request("203.0.113.50", "10.0.0.9, 1.2.3.4")) == "203.0.113.50"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client(proxies):
    proxies("10.0.0.0/24", "127.0.0.1")
    # nginx appends the address it saw: whatever the client wrote on the left is not reached
    assert client_ip(_request("127.0.0.1", "6.6.6.6, 203.0.113.9")) == "203.0.113.9"
    # two trusted hops (a load balancer, then nginx)
    assert client_ip(_request("127.0.0.1", "203.0.113.9, 10.0.0.3")) == "203.0.113.9"
    # IPv6 clients and ports
    assert client_ip(_request("10.0.0.2", "[2001:db8::1]:443")) == "2001:db8::1"
    assert client_ip(_request("10.0.0.2", "203.0.113.9:5123")) == "203.0.113.9"
    # a malformed hop stops the walk at the proxy that sent it
    assert client_ip(_request("10.0.0.2", "203.0.113.9, not-an-ip")) == "10.0.0.2"
    # no header: the proxy itself
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"


def test_allauth_rate_limits_use_the_same_client_ip(proxies):
    proxies("127.0.0.1")
    request = _request("127.0.0.1", "203.0.113.9")
    assert get_adapter(request).get_client_ip(request) == "203.0.113.9"


def _checkout(client: Client, course, code: str, *, forwarded: str):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/checkout",
        json.dumps(
            {"item": {"activity": str(course.pk)}, "payment": {"method": "code", "code": code}}
        ),
        content_type="application/json",
        headers={"X-Forwarded-For": forwarded, "Idempotency-Key": f"k-{code}-{forwarded}"},
        REMOTE_ADDR="127.0.0.1",
    )
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.django_db
@pytest.mark.parametrize("trusted", [True, False])
def test_code_guessing_limits_see_each_client_behind_the_proxy(settings, proxies, trusted):
    # given a limit of 3 failed code entries per IP, and nginx on 127.0.0.1
    settings.TUITION = {
        **settings.TUITION,
        "CODE_ATTEMPT_LIMITS": {"ip": 3, "learner": 100, "account": 100},
    }
    proxies(*(["127.0.0.1"] if trusted else []))
    course = catalog.create_activity(title="Cloud", price=1000, actor="test")
    guesser, bystander = Client(), Client()
    guesser.force_login(UserFactory())
    bystander.force_login(UserFactory())
    # when one client guesses until it is locked out
    answers = [_checkout(guesser, course, f"WRONG-{n}", forwarded="203.0.113.9") for n in range(4)]
    assert answers[-1] == (429, "too_many_attempts")
    # then another client behind the same proxy is not locked out, when the proxy is trusted
    other = _checkout(bystander, course, "WRONG-X", forwarded="198.51.100.20")
    ip_keys = set(AttemptCounter.objects.filter(scope="ip").values_list("key", flat=True))
    if trusted:
        assert other == (422, "code_not_found")
        assert ip_keys == {"203.0.113.9", "198.51.100.20"}
    else:
        assert other == (429, "too_many_attempts")
        assert ip_keys == {"127.0.0.1"}
