"""Reads of codes and coupons."""

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce

from tuition.accounts import access
from tuition.accounts.models import Membership
from tuition.core.reused_queries import ReusedQuery

from . import crypto, text
from .models import Coupon, RedemptionCode


def find_code(
    raw: object, *, learner_id: int | None = None, related: tuple[str, ...] = ()
) -> RedemptionCode | None:
    """The code (credit, pool, member or coupon) a person typed, or None. With `learner_id`,
    the same read also tells whether that learner is a member of the code's account
    (`learner_is_member`); `related`: more relations to read with it.

    Raises:
        ValidationError: input that can never be a code (non-ASCII, control characters, too long).
    """
    digest = crypto.digest(text.normalize_code(raw))
    return next(
        iter(_CODE_BY_DIGEST.fetch(digest=digest, learner_id=learner_id, related=related)), None
    )


def _code_by_digest(
    *, digest: str, learner_id: int | None, related: tuple[str, ...]
) -> QuerySet[RedemptionCode]:
    codes = RedemptionCode.objects.select_related(
        "lot", "lot__unit", "lot__account", "account", "unit", "coupon", *related
    ).filter(digest=digest)
    if learner_id is not None:
        account = Coalesce(OuterRef("account_id"), OuterRef("lot__account_id"))
        codes = codes.annotate(
            learner_is_member=Exists(
                Membership.objects.filter(account_id=account, user_id=learner_id)
            )
        )
    # The digest is unique: no ORDER BY, which only made the planner's work on this wide join
    # dearer (it runs in every checkout).
    return codes.order_by()[:1]


# Every checkout and quote reads its code this way: compiled once.
_CODE_BY_DIGEST = ReusedQuery(_code_by_digest, values=("digest", "learner_id"))


def can_see_code(user, code: RedemptionCode) -> bool:  # type: ignore[no-untyped-def]
    """Staff see every code; an account's owners see its codes; a member sees their own code."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if code.member_id is not None and code.member_id == user.pk:
        return True
    account_id = code.account_id or (code.lot.account_id if code.lot_id else None)
    return account_id is not None and access.is_owner(user, account_id)


def reveal_code(code: RedemptionCode) -> str | None:
    """The code's text, for someone `can_see_code` allows (None if sealed under another key)."""
    return crypto.unseal(code.sealed)


def codes_of_account(account_id: int) -> QuerySet[RedemptionCode]:
    """The account's live codes: its credits' codes, pool codes and member codes."""
    from django.db.models import Q

    return (
        RedemptionCode.objects.filter(Q(account_id=account_id) | Q(lot__account_id=account_id))
        .filter(deleted_at__isnull=True)
        .select_related("lot", "unit", "member")
    )


def code_of_lot(lot_id: int) -> RedemptionCode | None:
    return RedemptionCode.objects.filter(lot_id=lot_id).first()


def visible_coupons() -> QuerySet[Coupon]:
    return Coupon.objects.filter(deleted_at__isnull=True).select_related("code")
