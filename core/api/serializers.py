"""Serializers of the core resources. Input serializers are strict (unknown fields are errors);
output serializers name related objects with the few fields a screen needs."""

import re
from datetime import UTC

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from core.api.base import StrictModelSerializer, StrictSerializer
from core.models import (
    AssociateProfile,
    Category,
    Customer,
    CustomerAddress,
    CustomerExternalId,
    Inventory,
    Location,
    Notification,
    Product,
    Touchpoint,
)
from core.selectors import ADDRESS_COLUMNS
from core.services.customers import customer_etag
from core.timezones import validate_time_zone

PHONE_RE = re.compile(r"^\+[1-9]\d{6,14}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOUR_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_DELTA = 1_000_000


def validate_phone(value: str) -> str:
    if value and not PHONE_RE.match(value):
        raise serializers.ValidationError("Use international format, e.g. +31201234567.")
    return value


def validate_country(value: str) -> str:
    if not COUNTRY_RE.match(value):
        raise serializers.ValidationError("Use a two-letter ISO 3166 country code in capitals, e.g. NL.")
    return value


class SlugField(serializers.SlugRelatedField):
    """SlugRelatedField that refuses NUL characters before they reach the database."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


LATITUDE = {"min_value": -90, "max_value": 90}
LONGITUDE = {"min_value": -180, "max_value": 180}


class CustomerAddressSerializer(StrictModelSerializer):
    country = serializers.CharField(max_length=2, validators=[validate_country])

    class Meta:
        model = CustomerAddress
        extra_kwargs = {"latitude": LATITUDE, "longitude": LONGITUDE}
        fields = [
            "id",
            "label",
            "line1",
            "line2",
            "city",
            "postcode",
            "region",
            "country",
            "latitude",
            "longitude",
            "is_default",
        ]
        read_only_fields = ["id"]


class CustomerExternalIdSerializer(StrictModelSerializer):
    class Meta:
        model = CustomerExternalId
        fields = ["source", "external_id"]
        validators = []  # uniqueness is checked by the service, with a clear 409


# The customer list, customer detail and timeline are the hottest reads. Their serializers keep
# their declared fields (the OpenAPI schema and the equivalence tests read them) but build their
# output by hand: DRF builds and deep-copies every field object per serializer instance, which
# costs more than the queries. tests/core/test_serializers.py holds them to DRF's own output.
_COORDINATE = serializers.DecimalField(max_digits=9, decimal_places=6)


def _datetime(value):
    """ISO 8601 in UTC with a Z, as DRF writes it when the current time zone is UTC (the API's)."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _coordinate(value):
    return _COORDINATE.to_representation(value) if value is not None else None


def _plain(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


def address_representation(address) -> dict:
    return {
        **_plain(address, ADDRESS_COLUMNS),
        "latitude": _coordinate(address.latitude),
        "longitude": _coordinate(address.longitude),
    }


def _addresses(customer) -> list[dict]:
    if hasattr(customer, "address_rows"):  # selectors.customer_record() built them in the query
        return [
            {name: row[name] for name in (*ADDRESS_COLUMNS, "latitude", "longitude")}
            for row in customer.address_rows or ()
        ]
    return [address_representation(a) for a in customer.addresses.all()]


def _external_ids(customer) -> list[dict]:
    if hasattr(customer, "external_id_rows"):
        return [{"source": row["source"], "external_id": row["external_id"]} for row in customer.external_id_rows or ()]
    return [_plain(x, ("source", "external_id")) for x in customer.external_ids.all()]


CUSTOMER_LIST_PLAIN = ("id", "number", "given_name", "family_name", "email", "phone", "preferred_channel")
CUSTOMER_EDITABLE = (
    "given_name",
    "family_name",
    "email",
    "alternate_email",
    "phone",
    "alternate_phone",
    "time_zone",
    "language",
    "preferred_channel",
    "consent_email",
    "consent_sms",
    "consent_push",
)
CUSTOMER_PLAIN = ("id", "number", *CUSTOMER_EDITABLE)


class CustomerListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [*CUSTOMER_LIST_PLAIN, "created_at"]

    def to_representation(self, customer):
        return {**_plain(customer, CUSTOMER_LIST_PLAIN), "created_at": _datetime(customer.created_at)}


class CustomerSerializer(serializers.ModelSerializer):
    addresses = CustomerAddressSerializer(many=True, read_only=True)
    external_ids = CustomerExternalIdSerializer(many=True, read_only=True)
    etag = serializers.SerializerMethodField(help_text="Send it back as If-Match when you update.")

    class Meta:
        model = Customer
        fields = [*CUSTOMER_PLAIN, "addresses", "external_ids", "created_at", "updated_at", "etag"]

    def get_etag(self, obj) -> str:
        return customer_etag(obj)

    def to_representation(self, customer):
        return {
            **_plain(customer, CUSTOMER_PLAIN),
            "addresses": _addresses(customer),
            "external_ids": _external_ids(customer),
            "created_at": _datetime(customer.created_at),
            "updated_at": _datetime(customer.updated_at),
            "etag": customer_etag(customer),
        }


class CustomerWriteSerializer(StrictModelSerializer):
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, validators=[validate_phone])
    alternate_phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, validators=[validate_phone]
    )
    time_zone = serializers.CharField(max_length=64, required=False, validators=[validate_time_zone])
    addresses = CustomerAddressSerializer(many=True, required=False)
    external_ids = CustomerExternalIdSerializer(many=True, required=False)

    class Meta:
        model = Customer
        fields = [*CUSTOMER_EDITABLE, "addresses", "external_ids"]
        extra_kwargs = {"email": {"validators": []}}  # the service answers a taken e-mail with a 409

    def validate_addresses(self, value):
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 addresses.")
        if sum(1 for a in value if a.get("is_default")) > 1:
            raise serializers.ValidationError("Only one address can be the default.")
        return value

    def validate_external_ids(self, value):
        if self.instance is not None:
            raise serializers.ValidationError("External ids are set when the customer is created.")
        pairs = [(e["source"], e["external_id"]) for e in value]
        if len(pairs) != len(set(pairs)):
            raise serializers.ValidationError("Each external id may appear once.")
        return value


class MeSerializer(CustomerWriteSerializer):
    """What customers may change about themselves in the app; the e-mail is their login."""

    class Meta(CustomerWriteSerializer.Meta):
        fields = [
            "given_name",
            "family_name",
            "phone",
            "time_zone",
            "language",
            "preferred_channel",
            "consent_email",
            "consent_sms",
            "consent_push",
            "addresses",
        ]


class TimelineAssociate(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TimelineLocation(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class TimelineProduct(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()


class TimelineSubject(serializers.Serializer):
    type = serializers.CharField(help_text="app_label.model of the object the event is about")
    id = serializers.IntegerField()


class TouchpointSerializer(serializers.ModelSerializer):
    associate = TimelineAssociate(read_only=True, allow_null=True)
    location = TimelineLocation(read_only=True, allow_null=True)
    product = TimelineProduct(read_only=True, allow_null=True)
    subject = TimelineSubject(read_only=True, allow_null=True)

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "kind",
            "channel",
            "occurred_at",
            "summary",
            "order_number",
            "associate",
            "location",
            "product",
            "subject",
        ]

    def to_representation(self, obj):
        """Built by hand: the timeline is the hottest list in the product, and DRF's generic path
        costs several times more per row. Same fields and formats as declared above."""
        a, loc, p = obj.associate, obj.location, obj.product
        subject = None
        if obj.subject_type_id is not None:
            subject_type = ContentType.objects.get_for_id(obj.subject_type_id)  # cached per process
            subject = {"type": f"{subject_type.app_label}.{subject_type.model}", "id": obj.subject_id}
        return {
            "id": obj.pk,
            "kind": obj.kind,
            "channel": obj.channel,
            "occurred_at": _datetime(obj.occurred_at),
            "summary": obj.summary,
            "order_number": obj.order_number,
            "associate": {"id": a.pk, "name": a.get_full_name() or f"Associate {a.pk}"} if a else None,
            "location": {"id": loc.pk, "code": loc.code, "name": loc.name} if loc else None,
            "product": {"id": p.pk, "sku": p.sku, "name": p.name} if p else None,
            "subject": subject,
        }


class OpeningHoursField(serializers.JSONField):
    """{"mon": [["09:00", "18:00"]], ...}; days absent are closed."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object keyed by weekday (mon..sun).")
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise serializers.ValidationError(f"Unknown weekday {day!r}; use mon..sun.")
            if not isinstance(spans, list) or len(spans) > 4:
                raise serializers.ValidationError(f"{day}: expected a list of up to 4 [open, close] pairs.")
            for span in spans:
                if (
                    not isinstance(span, list)
                    or len(span) != 2
                    or not all(isinstance(t, str) and HOUR_RE.match(t) for t in span)
                    or span[0] >= span[1]
                ):
                    raise serializers.ValidationError(f'{day}: each span is ["HH:MM", "HH:MM"], open before close.')
        return value


class LocationSerializer(StrictModelSerializer):
    country = serializers.CharField(max_length=2, validators=[validate_country])
    time_zone = serializers.CharField(max_length=64, validators=[validate_time_zone])
    opening_hours = OpeningHoursField(required=False)

    class Meta:
        model = Location
        extra_kwargs = {"latitude": LATITUDE, "longitude": LONGITUDE}
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "address_line1",
            "address_line2",
            "city",
            "postcode",
            "region",
            "country",
            "latitude",
            "longitude",
            "opening_hours",
            "open_24h",
            "time_zone",
            "phone",
            "is_active",
        ]
        read_only_fields = ["id"]


class ProductSerializer(StrictModelSerializer):
    category = SlugField(slug_field="slug", queryset=Category.objects.all())
    currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3, error_messages={"invalid": "ISO 4217 code."})
    return_window_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "price",
            "currency",
            "returnable",
            "return_window_days",
            "installable",
            "trainable",
            "alterable",
            "recyclable",
            "stocked",
            "resale_value",
            "is_active",
        ]
        read_only_fields = ["id"]


class InventorySerializer(serializers.ModelSerializer):
    product_sku = serializers.CharField(source="product.sku", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = Inventory
        fields = [
            "id",
            "product",
            "product_sku",
            "location",
            "location_code",
            "on_hand",
            "reserved",
            "available",
            "updated_at",
        ]


class InventoryAdjustSerializer(StrictSerializer):
    on_hand_delta = serializers.IntegerField(default=0, min_value=-MAX_DELTA, max_value=MAX_DELTA)
    reserved_delta = serializers.IntegerField(default=0, min_value=-MAX_DELTA, max_value=MAX_DELTA)

    def validate(self, attrs):
        if not attrs["on_hand_delta"] and not attrs["reserved_delta"]:
            raise serializers.ValidationError("Give a non-zero on_hand_delta or reserved_delta.")
        return attrs


class AssociateSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    email = serializers.EmailField(source="user.email", read_only=True)
    skills = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = AssociateProfile
        fields = [
            "id",
            "user",
            "name",
            "email",
            "employee_code",
            "home_location",
            "skills",
            "roles",
            "approval_limit",
            "approval_currency",
        ]

    def get_name(self, obj) -> str:
        return obj.user.get_full_name() or obj.user.email

    def get_roles(self, obj) -> list[str]:
        return [g.name for g in obj.user.groups.all()]


class NotificationSerializer(serializers.ModelSerializer):
    """Staff see what was sent, with the customer's secrets (pickup and voucher codes) masked."""

    subject = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "customer",
            "event",
            "channel",
            "recipient",
            "order_number",
            "subject",
            "body",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
        ]

    def get_subject(self, obj) -> str:
        return obj.masked(obj.subject)

    def get_body(self, obj) -> str:
        return obj.masked(obj.body)


class MyNotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "channel", "order_number", "subject", "body", "status", "created_at", "sent_at"]
