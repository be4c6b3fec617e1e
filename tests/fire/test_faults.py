"""Fault points kill their own process with SIGKILL only when armed (core.faults)."""

import os
import signal
import subprocess
import sys

import pytest

from tuition.core import faults

CALL = (
    "from tuition.core.faults import fault_point; "
    "fault_point('after_entries_before_commit'); print('alive')"
)


def _run(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TUITION_FAULT")}
    return subprocess.run(
        [sys.executable, "-c", CALL],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unarmed_fault_point_does_nothing(tmp_path):
    run = _run(tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "alive"


def test_an_armed_fault_point_kills_its_process_and_says_so(tmp_path):
    log = tmp_path / "faults.log"
    run = _run(
        tmp_path,
        TUITION_FAULT="mid_notification_delivery,after_entries_before_commit",
        TUITION_FAULT_LOG=str(log),
    )
    assert run.returncode == -signal.SIGKILL and "alive" not in run.stdout
    assert log.read_text().split()[0] == "after_entries_before_commit"


@pytest.mark.parametrize("armed", ["after_commit_before_response", ""])
def test_another_point_armed_or_none_leaves_this_one_alone(tmp_path, armed):
    run = _run(tmp_path, TUITION_FAULT=armed)
    assert run.returncode == 0


def test_probability_zero_never_fires(tmp_path):
    run = _run(tmp_path, TUITION_FAULT="after_entries_before_commit", TUITION_FAULT_PROBABILITY="0")
    assert run.returncode == 0


def test_the_points_placed_in_the_code_are_the_documented_ones():
    from pathlib import Path

    src = Path(faults.__file__).resolve().parents[1]
    used = set()
    for path in src.rglob("*.py"):
        text = path.read_text()
        for name in faults.POINTS:
            if f'fault_point("{name}")' in text:
                used.add(name)
    assert used == set(faults.POINTS)
