"""The accounts as notifications need to know them (see `notifications.directory`)."""

from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Q

from tuition.notifications.directory import Recipient

from .models import Membership, TrainingAccount


class AccountDirectory:
    def recipients(self, account_ids: Iterable[int]) -> dict[int, list[Recipient]]:
        found: dict[int, list[Recipient]] = defaultdict(list)
        memberships = (
            Membership.objects.filter(account_id__in=list(account_ids), user__is_active=True)
            .filter(Q(role=Membership.Role.OWNER) | Q(notify=True))
            .exclude(user__email="")
            .values_list("account_id", "user_id", "user__email", "role", "can_view_balance")
            .order_by("account_id", "user_id")
        )
        for account_id, user_id, email, role, can_view in memberships:
            found[account_id].append(
                Recipient(user_id, email, role == Membership.Role.OWNER or can_view)
            )
        return found

    def names(self, account_ids: Iterable[int]) -> dict[int, str]:
        return dict(
            TrainingAccount.objects.filter(pk__in=set(account_ids)).values_list("pk", "name")
        )

    def exists(self, account_id: int) -> bool:
        return TrainingAccount.objects.filter(pk=account_id).exists()

    def low_balance_thresholds(self) -> Iterator[tuple[int, str, dict]]:
        accounts = (
            TrainingAccount.objects.exclude(low_balance_threshold={})
            .order_by("pk")
            .values_list("pk", "name", "low_balance_threshold")
        )
        for pk, name, thresholds in accounts.iterator(chunk_size=500):
            if isinstance(thresholds, dict):
                yield pk, name, thresholds
