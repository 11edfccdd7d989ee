"""Enumerations of the orders app, and the tables that go with them."""

from django.db import models


class OrderStatus(models.TextChoices):
    """Derived from the lines' fulfilment by `services.order_status_refresh`; never set by hand."""

    PLACED = "placed", "Placed"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    PARTIALLY_DELIVERED = "partially_delivered", "Partially delivered"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


OPEN_ORDER_STATUSES = (
    OrderStatus.PLACED,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.PARTIALLY_DELIVERED,
)


class OrderSource(models.TextChoices):
    POS = "pos", "Point of sale"
    ECOMMERCE = "ecommerce", "E-commerce"
    APP = "app", "App"
    PHONE = "phone", "Phone order"
    SERVICE = "service", "Service's fee (changes with its work order)"


# Where orders come from that clients may name; service fee orders are made by their work orders.
SELLING_SOURCES = tuple(source for source in OrderSource if source != OrderSource.SERVICE)


class FulfilmentMethod(models.TextChoices):
    CARRY_OUT = "carry_out", "Taken home at the till"
    DELIVERY = "delivery", "Home delivery"
    PICKUP = "pickup", "Pickup"


class ServiceLevel(models.TextChoices):
    ECONOMY = "economy", "Economy"
    STANDARD = "standard", "Standard"
    EXPRESS = "express", "Express"


# Days a parcel takes from hand-over to the carrier to the door, by service level: the delay
# warning's "will it still make the promise if it ships today?".
TRANSIT_DAYS = {ServiceLevel.ECONOMY: 5, ServiceLevel.STANDARD: 3, ServiceLevel.EXPRESS: 1}


class ChargeKind(models.TextChoices):
    """Ledger entries. Amounts are signed from the customer's side: + the customer pays (or is held
    for), - money goes back. An authorisation is a hold: +amount when placed, -amount when part of
    it is captured or released; a capture is the settled charge for what was shipped."""

    AUTHORISATION = "authorisation", "Authorisation"
    CAPTURE = "capture", "Capture"
    REFUND = "refund", "Refund"
    VOUCHER_REDEMPTION = "voucher_redemption", "Voucher redemption"
    GOODWILL_CREDIT = "goodwill_credit", "Goodwill credit"
    FREE_SHIPPING = "free_shipping", "Free shipping on the next order"
    STORE_CREDIT = "store_credit", "Refund as store credit"
    EXCHANGE = "exchange", "Exchange"


class ChargeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SETTLED = "settled", "Settled"


class ShipmentStatus(models.TextChoices):
    INFO_RECEIVED = "info_received", "Info received"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    FAILED_ATTEMPT = "failed_attempt", "Failed attempt"
    AVAILABLE_FOR_PICKUP = "available_for_pickup", "Available for pickup"
    EXCEPTION = "exception", "Exception"
    DELIVERED = "delivered", "Delivered"
    RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender"


# How far along a parcel is. A tracking event never moves a shipment to a lower rank: a late
# "in transit" after "out for delivery" is kept in the history but does not change the status.
# Between equal ranks (a failed attempt, then out for delivery again) the newer event wins.
SHIPMENT_STATUS_RANK = {
    ShipmentStatus.INFO_RECEIVED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.EXCEPTION: 1,
    ShipmentStatus.OUT_FOR_DELIVERY: 2,
    ShipmentStatus.FAILED_ATTEMPT: 2,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: 3,
    ShipmentStatus.DELIVERED: 4,
    ShipmentStatus.RETURNED_TO_SENDER: 4,
}
FINAL_SHIPMENT_STATUSES = (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER)
TROUBLED_SHIPMENT_STATUSES = (ShipmentStatus.EXCEPTION, ShipmentStatus.FAILED_ATTEMPT)


class DeliveryService(models.TextChoices):
    STANDARD = "standard", "Doorstep"
    WHITE_GLOVE = "white_glove", "White glove (room of choice, packaging taken away)"
    ASSEMBLY = "assembly", "White glove with assembly"


class DeliveryStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DELIVERED = "delivered", "Delivered"
    PARTIALLY_DELIVERED = "partially_delivered", "Partially delivered"
    REFUSED = "refused", "Refused"
    CANCELLED = "cancelled", "Cancelled"


class ItemCondition(models.TextChoices):
    GOOD = "good", "Good"
    DAMAGED = "damaged", "Damaged"


class ExceptionKind(models.TextChoices):
    SHORTFALL = "shortfall", "Items missing"
    DAMAGE = "damage", "Items damaged"
    REFUSAL = "refusal", "Delivery refused"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


class Remedy(models.TextChoices):
    SHIP_REST = "ship_rest", "Ship the rest with a new estimate"
    GOODWILL_CREDIT = "goodwill_credit", "Goodwill credit"
    FREE_SHIPPING = "free_shipping", "Free shipping on the next order"


class PickupStatus(models.TextChoices):
    READY = "ready", "Ready for pickup"
    COLLECTED = "collected", "Collected"
    EXPIRED = "expired", "Not collected in time"
    CANCELLED = "cancelled", "Cancelled"


class RiskReason(models.TextChoices):
    NOT_SHIPPED_IN_TIME = "not_shipped_in_time", "Not shipped in time for the promise"
    CARRIER_LATE = "carrier_late", "Carrier's estimate is later than the promise"
    SHIPMENT_TROUBLE = "shipment_trouble", "Carrier reports an exception or a failed attempt"
