"""Owner actions the pages need that compose other apps' services.

No transaction is opened here: every booking is one `checkout.services.checkout` call, so
each member's booking is its own short transaction (debit, seat, order, registration, receipt
and notification all or nothing), and one member's failure never undoes another's booking.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from tuition.accounts.models import Membership
from tuition.checkout import approvals
from tuition.checkout import services as checkout
from tuition.codes import services as codes
from tuition.codes.selectors import reveal_code
from tuition.core.actors import Actor
from tuition.core.errors import DomainError, NotFoundError, ValidationError
from tuition.ledger.models import Unit

from . import selectors


@dataclass
class TeamBookingResult:
    email: str
    result: checkout.CheckoutResult | None = None
    error: DomainError | None = None


def book_for_team(
    *,
    account_id: int,
    activity_id: int,
    session_id: int | None,
    member_ids: list[int],
    unit: Unit,
    actor: Actor,
) -> list[TeamBookingResult]:
    """An owner enrolls members of the account (each as a normal registration of that member),
    paying from the account's pool in `unit`. Returns one result per member, in order.

    Raises:
        ValidationError: no member chosen.
        NotFoundError: a chosen person is not a member of the account.
    """
    if not member_ids:
        raise ValidationError(_("Choose at least one member."), details={"field": "members"})
    memberships = {
        m.pk: m
        for m in Membership.objects.filter(account_id=account_id, pk__in=member_ids).select_related(
            "user"
        )
    }
    if len(memberships) != len(set(member_ids)):
        raise NotFoundError(_("No such member."), details={"field": "members"})
    code_text = _pool_code_text(account_id=account_id, unit=unit, actor=actor)
    results = []
    for membership_id in dict.fromkeys(member_ids):
        email = memberships[membership_id].user.email
        try:
            result = checkout.checkout(
                learner_email=email,
                activity_id=activity_id,
                session_id=session_id,
                payment=checkout.PaymentChoice(method="code", code=code_text),
                actor=actor,
            )
            if isinstance(result, approvals.AwaitingApproval):
                # The owner books: their booking is their approval.
                result = approvals.approve(hold_id=result.hold.pk, actor=actor)
        except DomainError as error:
            results.append(TeamBookingResult(email, error=error))
        else:
            results.append(TeamBookingResult(email, result=result))
    return results


def _pool_code_text(*, account_id: int, unit: Unit, actor: Actor) -> str:
    """The text of the account's pool code in `unit`, made on first use."""
    existing = selectors.pool_code(account_id, unit)
    if existing is not None:
        text = reveal_code(existing)
        if text:
            return text
    return codes.create_pool_code(
        account_id=account_id, unit=unit, actor=actor, label="Team bookings"
    ).code_text
