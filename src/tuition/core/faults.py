"""Fault points: places where a crash is most dangerous, and where tests crash the process.

    fault_point("after_entries_before_commit")

does nothing unless the environment variable `TUITION_FAULT` names that point (a comma-separated
list may name several). Then the process kills itself with SIGKILL, exactly as a power cut or
the kernel's OOM killer would: no `finally`, no rollback handler, no response. With
`TUITION_FAULT_PROBABILITY` (0 to 1) it does so only that often, so a long load test crashes at
random at that point; with `TUITION_FAULT_LOG` (a file path) it first appends the point's name
there, so a harness can count the crashes it caused.

The environment is read once at import: when `TUITION_FAULT` is unset (production), a call is
one comparison of a module-level constant. See docs/decisions/0007-fault-points-and-outages.md.

The points:
    after_entries_before_commit   checkout: debit, order, registration and booking written,
                                  transaction not yet committed
    after_commit_before_response  API: the change and its idempotency record committed, the
                                  answer not yet sent
    automatic_refill_before_purchase  automatic refill: the firing written, nothing bought yet
    automatic_refill_before_commit    automatic refill: firing, order and lot written, not
                                  yet committed
    mid_notification_delivery     worker: a notification claimed and handed to the mail server
                                  (or webhook endpoint), not yet marked delivered
"""

import os
import random
import signal

POINTS = frozenset(
    {
        "after_entries_before_commit",
        "after_commit_before_response",
        "mid_notification_delivery",
        "automatic_refill_before_purchase",
        "automatic_refill_before_commit",
    }
)

_ARMED = frozenset(
    name.strip() for name in os.environ.get("TUITION_FAULT", "").split(",") if name.strip()
)
_PROBABILITY = float(os.environ.get("TUITION_FAULT_PROBABILITY", "1") or "1")
_LOG = os.environ.get("TUITION_FAULT_LOG", "")


def fault_point(name: str) -> None:
    """Die here (SIGKILL, own process) when this point is armed; otherwise do nothing."""
    if not _ARMED:
        return
    if name not in _ARMED:
        return
    if _PROBABILITY < 1 and random.random() >= _PROBABILITY:
        return
    if _LOG:
        # One short append: O_APPEND keeps lines whole between processes.
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{name} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
