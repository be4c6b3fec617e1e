"""What forgetting a person would touch, for the staff's confirmation page."""

from dataclasses import dataclass

from tuition.accounts.models import Membership, User
from tuition.checkout.models import Order, Registration
from tuition.notifications.models import EmailDelivery
from tuition.reports.models import ReportExport

from .models import Erasure


@dataclass(frozen=True)
class ErasureScope:
    memberships: int
    orders: int
    registrations: int
    emails: int
    exports: int
    erasure: Erasure | None


def erasure_scope(user: User) -> ErasureScope:
    return ErasureScope(
        memberships=Membership.objects.filter(user=user).count(),
        orders=Order.objects.filter(learner=user).count(),
        registrations=Registration.objects.filter(learner=user).count(),
        emails=EmailDelivery.objects.filter(user=user).count(),
        exports=ReportExport.objects.exclude(file="").count(),
        erasure=Erasure.objects.filter(user=user).first(),
    )
