"""Changes made through the API name the API key; the command line names its command."""

import pytest
from django.core.management import call_command

from tests.factories import AccountFactory, usd
from tuition.api.models import ApiKey
from tuition.core.models import AuditEvent
from tuition.ledger.models import Transfer

pytestmark = pytest.mark.django_db


def test_a_change_through_the_api_names_the_key_in_the_ledger_and_the_api(api):
    # given
    usd()
    key = ApiKey.objects.get(name="test")
    account = AccountFactory()
    # when
    response = api.post(
        "credits", {"account": str(account.pk), "unit": "USD", "redeemable_value": "50.00"}
    )
    assert response.status_code == 201
    # then: the ledger holds the key's reference, never a name
    transfer = Transfer.objects.get()
    assert transfer.actor == f"api-key:{key.prefix}@api"
    listed = api.get("transactions").json()["results"][0]
    assert listed["actor"] == {
        "kind": "api-key",
        "id": key.prefix,
        "display": f"API key test ({key.prefix[:6]}…) via API",
        "interface": "api",
    }
    # and the credit's change history says the same
    history = api.get(f"credits/{response.json()['id']}/history").json()
    assert history[0]["actor"]["kind"] == "api-key" and history[0]["actor"]["id"] == key.prefix
    event = AuditEvent.objects.get(object_type="ledger.lot")
    assert (event.actor_kind, event.actor_id, event.interface) == ("api-key", key.prefix, "api")


def test_a_change_on_the_command_line_names_the_command(capsys):
    # when
    call_command("create_api_key", "CRM", "--scopes", "credits:read")
    # then
    key = ApiKey.objects.get(name="CRM")
    event = AuditEvent.objects.get(object_type="api.apikey")
    assert (event.actor, event.verb, event.object_id) == (
        "job:create_api_key@command",
        "created",
        key.prefix,
    )
    # when the key is revoked the same way
    call_command("revoke_api_key", key.prefix)
    # then
    revoked = AuditEvent.objects.filter(object_type="api.apikey").order_by("-id").first()
    assert (revoked.actor, revoked.verb) == ("job:revoke_api_key@command", "revoked")
