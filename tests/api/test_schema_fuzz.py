"""Schemathesis over every operation of the live OpenAPI document, with every check on:
no server error, documented statuses, content types and headers, responses that match their
schema, schema-valid requests accepted and schema-invalid ones refused (schemathesis.toml lists
the business rules JSON Schema cannot express, each with its reason).

`make test` runs a short pass on each database; `make fuzz-api` runs a long one
(FUZZ_API_EXAMPLES, FUZZ_API_SEED)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import AccountFactory, issue
from tuition.api.keys import create_api_key
from tuition.catalog.services import create_activity

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES = int(os.environ.get("FUZZ_API_EXAMPLES", "4"))
SEED = int(os.environ.get("FUZZ_API_SEED", "20261201"))


@pytest.fixture
def api_key(transactional_db) -> str:
    account = AccountFactory()
    issue(account, 500000)
    create_activity(title="Cloud Fundamentals", price=30000, actor="test")
    _, plaintext = create_api_key(name="fuzz", scopes=["admin"], actor="test")
    return plaintext


def run_schemathesis(base_url: str, key: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{base_url}/api/schema/",
        "--checks",
        "all",
        "--header",
        f"Authorization: Api-Key {key}",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_operation_passes_every_check(live_server, api_key, tmp_path):
    # when
    result = run_schemathesis(live_server.url, api_key, tmp_path / "junit.xml")
    # then
    summary = result.stdout[result.stdout.find("SUMMARY") :]
    # The case count and failures, for the record: shown with `pytest -s`, and kept in a file.
    record = os.environ.get("FUZZ_API_RECORD")
    if record:
        Path(record).write_text(result.stdout)
    sys.stdout.write(f"\n--- schemathesis ---\n{summary}\n")
    cases = re.search(r"(\d+) generated", summary)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-2000:]
    assert "Tested: " in summary and cases is not None
    tested = re.search(r"Tested: (\d+)", summary)
    assert tested is not None and int(tested.group(1)) >= 70
    assert int(cases.group(1)) >= 500
    assert "failures" not in summary.splitlines()[-1]
