import os

import pytest
from django.db import connection


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
