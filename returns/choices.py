"""Enumerations of the returns app, and the tables that go with them."""

from django.db import models


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", "Arrived damaged"
    DEFECTIVE = "defective", "Defective"
    WRONG_ITEM = "wrong_item", "Wrong item sent"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    DOESNT_FIT = "doesnt_fit", "Doesn't fit"
    CHANGED_MIND = "changed_mind", "Changed my mind"
    ARRIVED_LATE = "arrived_late", "Arrived too late"
    OTHER = "other", "Other"


# Reasons where the retailer, not the customer, is at fault: they never count towards a
# customer's return rate (a customer who got three broken lamps is no serial returner).
RETAILER_FAULT_REASONS = (
    ReturnReason.DAMAGED,
    ReturnReason.DEFECTIVE,
    ReturnReason.WRONG_ITEM,
    ReturnReason.NOT_AS_DESCRIBED,
    ReturnReason.ARRIVED_LATE,
)


class ReturnMethod(models.TextChoices):
    STORE_DROP_OFF = "store_drop_off", "Drop off at a store"
    PUDO_DROP_OFF = "pudo_drop_off", "Drop off at a pickup-drop-off point (label-free QR code)"
    KIOSK_DROP_OFF = "kiosk_drop_off", "Drop off at a kiosk (label-free QR code)"
    CARRIER_LABEL = "carrier_label", "Send with a carrier label"
    CARRIER_COLLECTION = "carrier_collection", "Collected by a carrier at home"


# Methods that need a drop-off location, and the location kinds each accepts.
DROP_OFF_KINDS = {
    ReturnMethod.STORE_DROP_OFF: ("store", "returns_centre"),
    ReturnMethod.PUDO_DROP_OFF: ("pudo", "locker"),
    ReturnMethod.KIOSK_DROP_OFF: ("kiosk",),
}
# Methods where the parcel is handed over with a code instead of a printed label.
LABEL_FREE_METHODS = (ReturnMethod.PUDO_DROP_OFF, ReturnMethod.KIOSK_DROP_OFF)


class Resolution(models.TextChoices):
    REFUND = "refund", "Refund to the original payment"
    STORE_CREDIT = "store_credit", "Credit voucher"
    EXCHANGE = "exchange", "Exchange"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RECEIVED = "received", "Received"
    INSPECTED = "inspected", "Inspected"
    RESOLVED = "resolved", "Resolved (refunded, credited or exchanged)"
    CANCELLED = "cancelled", "Cancelled"


# Returns whose units count as "already returned" for the next request of the same lines.
ACTIVE_RETURN_STATUSES = (
    ReturnStatus.REQUESTED,
    ReturnStatus.APPROVED,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
    ReturnStatus.RESOLVED,
)


class ReturnFlag(models.TextChoices):
    """Why a request waits for a person instead of being approved by the rules."""

    ABOVE_AUTO_APPROVAL_LIMIT = "above_auto_approval_limit", "Value above the auto-approval limit"
    HIGH_RETURN_RATE = "high_return_rate", "Customer's return rate above the threshold"
    NO_POLICY = "no_policy", "No return policy for the order's currency"


class ItemGrade(models.TextChoices):
    NEW = "new", "As new, unopened"
    LIKE_NEW = "like_new", "Opened, like new"
    GOOD = "good", "Used, good"
    DAMAGED = "damaged", "Damaged"
    UNUSABLE = "unusable", "Unusable"


class Disposition(models.TextChoices):
    RESTOCK = "restock", "Restock as new"
    OPEN_BOX = "open_box", "Resell as open box"
    REFURBISH = "refurbish", "Refurbish"
    RETURN_TO_VENDOR = "return_to_vendor", "Return to vendor"
    DONATE = "donate", "Donate"
    RECYCLE = "recycle", "Recycle"
    LANDFILL = "landfill", "Landfill"


# Dispositions that put the unit back on the shelf of the receiving location.
RESTOCKING_DISPOSITIONS = (Disposition.RESTOCK, Disposition.OPEN_BOX)


class VoucherStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXHAUSTED = "exhausted", "Spent"
    EXPIRED = "expired", "Expired"
    VOID = "void", "Void"


class VoucherSource(models.TextChoices):
    """What a credit voucher was issued for."""

    RETURN = "return", "Store credit for a return"
    GOODWILL = "goodwill", "Goodwill (complaint or delivery problem)"
    REFERRAL = "referral", "Referral reward"


class VoucherTransactionKind(models.TextChoices):
    """Ledger entries of a voucher. Amounts are signed from the voucher's side: + adds to the
    balance (issue, reversed redemption), - takes from it (redeem, expire, void)."""

    ISSUE = "issue", "Issued"
    REDEEM = "redeem", "Redeemed"
    REVERSE = "reverse", "Redemption reversed"
    EXPIRE = "expire", "Expired"
    VOID = "void", "Voided"
