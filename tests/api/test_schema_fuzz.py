"""Fuzz every operation of the live OpenAPI document: whatever comes in, the server never
answers with a server error, and every refusal uses the §4 envelope."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.factories import AccountFactory, issue
from tuition.api.keys import create_api_key

MAX_EXAMPLES = 8


@pytest.fixture
def api_key(transactional_db) -> str:
    account = AccountFactory()
    issue(account, 5000)
    _, plaintext = create_api_key(name="fuzz", scopes=["admin"], actor="test")
    return plaintext


@pytest.mark.django_db(transaction=True)
def test_no_operation_answers_with_a_server_error(live_server, api_key):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    headers = {"Authorization": f"Api-Key {api_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):  # type: ignore[no-untyped-def]
            response = case.call(base_url=live_server.url, headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}, (case.path, body)
                assert {"code", "message", "details"} <= set(body["error"])

        fuzz()
