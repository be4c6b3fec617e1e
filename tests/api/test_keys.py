import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tuition.api.models import ApiKey

from .conftest import Api, error_code

pytestmark = pytest.mark.django_db


def test_create_api_key_command_prints_the_key_once_and_stores_only_a_hash(capsys):
    # when
    call_command("create_api_key", "CRM", "--scopes", "credits:read,credits:write")
    # then
    plaintext = capsys.readouterr().out.strip()
    key = ApiKey.objects.get()
    assert key.scopes == ["credits:read", "credits:write"]
    assert plaintext.startswith(key.prefix + ".")
    assert plaintext not in key.hashed_key and plaintext != key.id
    assert ApiKey.objects.is_valid(plaintext)


def test_create_api_key_refuses_unknown_scopes():
    with pytest.raises(CommandError):
        call_command("create_api_key", "CRM", "--scopes", "everything")
    assert not ApiKey.objects.exists()


def test_a_key_authenticates_and_a_revoked_key_does_not(client, make_key):
    # given
    plaintext = make_key("credits:read")
    api = Api(client, plaintext)
    assert api.get("units").status_code == 200
    # when
    call_command("revoke_api_key", plaintext.split(".")[0])
    # then
    response = api.get("units")
    assert response.status_code == 401 and error_code(response) == "not_authenticated"
    assert ApiKey.objects.get().revoked


def test_revoking_an_unknown_prefix_fails():
    with pytest.raises(CommandError):
        call_command("revoke_api_key", "nope")


@pytest.mark.parametrize("header", ["Api-Key nope.nope", "Api-Key ", "Api-Key x"])
def test_a_wrong_key_is_not_authenticated(client, make_key, header):
    make_key("admin")
    response = client.get("/api/v1/units", headers={"Authorization": header})
    assert response.status_code == 401 and error_code(response) == "not_authenticated"


def test_no_credentials_is_not_authenticated(client):
    response = client.get("/api/v1/accounts")
    assert response.status_code == 401 and error_code(response) == "not_authenticated"
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_key_without_the_scope_is_refused(client, make_key):
    api = Api(client, make_key("credits:read"))
    response = api.post("accounts", {"name": "Acme"})
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert response.json()["error"]["details"] == {"scope": "credits:write"}
