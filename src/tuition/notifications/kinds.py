"""The kinds of notification events: the delivery engine and the recorders both read them."""

# Event kinds (SPEC rule 22), also the webhook event types.
CREDIT_ISSUED = "credit.issued"
CREDIT_REDEEMED = "credit.redeemed"
CREDIT_EXPIRED = "credit.expired"
CREDIT_EXPIRY_CHANGED = "credit.expiry_changed"
CREDIT_EXPIRING_SOON = "credit.expiring_soon"
BALANCE_LOW = "balance.low"
REFILL_PURCHASED = "refill.purchased"
# Automatic refills (SPEC §7): one bought, or one paused because the card was declined.
REFILL_AUTOMATIC = "refill.automatic"
REFILL_AUTOMATIC_PAUSED = "refill.automatic_paused"
# Approvals (SPEC §7): a redemption waits for an owner; approved, declined or expired.
HOLD_PLACED = "hold.placed"
HOLD_APPROVED = "hold.approved"
HOLD_DECLINED = "hold.declined"
HOLD_EXPIRED = "hold.expired"
# Personal kinds: sent to the people named when recording, not to the account's people.
REGISTRATION_CONFIRMED = "registration.confirmed"
BOOKING_CHANGED = "booking.changed"
REGISTRATION_CANCELLED = "registration.cancelled"
MEMBER_INVITED = "member.invited"
ORDER_REFUNDED = "order.refunded"
# The learner's side of a declined or expired approval request (SPEC §7).
REGISTRATION_NOT_APPROVED = "registration.not_approved"
PERSONAL_KINDS = {
    REGISTRATION_CONFIRMED,
    BOOKING_CHANGED,
    REGISTRATION_CANCELLED,
    MEMBER_INVITED,
    ORDER_REFUNDED,
    REGISTRATION_NOT_APPROVED,
}
KINDS = [
    CREDIT_ISSUED,
    CREDIT_REDEEMED,
    CREDIT_EXPIRED,
    CREDIT_EXPIRY_CHANGED,
    CREDIT_EXPIRING_SOON,
    BALANCE_LOW,
    REFILL_PURCHASED,
    REFILL_AUTOMATIC,
    REFILL_AUTOMATIC_PAUSED,
    REGISTRATION_CONFIRMED,
    BOOKING_CHANGED,
    REGISTRATION_CANCELLED,
    MEMBER_INVITED,
    ORDER_REFUNDED,
    HOLD_PLACED,
    HOLD_APPROVED,
    HOLD_DECLINED,
    HOLD_EXPIRED,
    REGISTRATION_NOT_APPROVED,
]

# Kinds that are about the balance itself: not sent to members who may not see it.
BALANCE_ONLY_KINDS = {BALANCE_LOW}
