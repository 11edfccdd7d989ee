"""Enumerations shared by every app."""

from django.db import models


class Role(models.TextChoices):
    """Staff roles; each is a Django group with model permissions (migration 0002)."""

    ASSOCIATE = "associate", "Store associate"
    CUSTOMER_SERVICE = "customer_service", "Customer-service agent"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Administrator"
    INTEGRATION = "integration", "System integration (POS, e-commerce)"


class Channel(models.TextChoices):
    STORE = "store", "Store"
    WEB = "web", "Web"
    APP = "app", "App"
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    CHAT = "chat", "Chat"
    SOCIAL = "social", "Social"
    VOICE = "voice", "Voice assistant"
    KIOSK = "kiosk", "Kiosk"


class ContactChannel(models.TextChoices):
    """Channels the system itself may use to reach a customer."""

    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PUSH = "push", "Push"


class TouchpointKind(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    DELIVERY = "delivery", "Delivery"
    PICKUP = "pickup", "Pickup"
    INSTALLATION = "installation", "Installation"
    TRAINING = "training", "Training"
    ALTERATION = "alteration", "Alteration"
    COMPLAINT = "complaint", "Complaint"
    SURVEY = "survey", "Survey"
    REVIEW = "review", "Review"
    RETURN = "return", "Return"
    CREDIT_VOUCHER = "credit_voucher", "Credit voucher"
    TESTIMONIAL = "testimonial", "Testimonial"
    LIKE = "like", "Like"
    REFERRAL = "referral", "Referral"
    NOTIFICATION = "notification", "Notification"


class LocationKind(models.TextChoices):
    STORE = "store", "Store"
    WAREHOUSE = "warehouse", "Warehouse"
    PUDO = "pudo", "Pickup-drop-off point"
    LOCKER = "locker", "Locker"
    RETURNS_CENTRE = "returns_centre", "Returns centre"
    KIOSK = "kiosk", "Kiosk"


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
