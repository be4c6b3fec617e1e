import os

import pytest
from django.db import connection

from tests.api_support import api, make_key, owner_of, session_api  # noqa: F401 - shared fixtures


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _ci_marker():
    # Nothing to set up; kept so a CI run can be recognised in reports.
    yield os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def _language_of_each_test_its_own():
    # A page asked for in German leaves German active in the thread (LocaleMiddleware does not
    # reset it): each test starts in the default language.
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
