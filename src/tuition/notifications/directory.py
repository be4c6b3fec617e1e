"""What notifications must know of training accounts: who hears about one, its name, its
low-balance thresholds. The accounts part provides it when it starts (`provide`), so
notifications, which accounts records its own events into, imports no other part of the
product, and there is no cycle between the two."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    show_balance: bool


class Directory(Protocol):
    def recipients(self, account_ids: Iterable[int]) -> dict[int, list[Recipient]]:
        """Owners, and members who opted in, of each account (active users with an email)."""
        ...

    def names(self, account_ids: Iterable[int]) -> dict[int, str]: ...

    def exists(self, account_id: int) -> bool: ...

    def low_balance_thresholds(self) -> Iterator[tuple[int, str, dict]]:
        """(account id, name, {unit code: threshold}) of each account that set one."""
        ...


_provided: list[Directory] = []


def provide(directory: Directory) -> None:
    _provided[:] = [directory]


def accounts() -> Directory:
    if not _provided:
        raise RuntimeError("No account directory: the accounts app provides it when it starts.")
    return _provided[0]
