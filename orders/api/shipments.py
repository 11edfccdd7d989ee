"""Shipments: the staff list and detail with tracking, creation by warehouses and selling systems,
the customer's own parcels, and the webhook carriers push tracking events to."""

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.db.models import Prefetch, QuerySet, Sum
from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import CursorPagination
from core.api.serializers import SlugField
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.models import Location
from orders.choices import ChargeKind, ServiceLevel, ShipmentStatus
from orders.models import Carrier, Charge, Order, Shipment, ShipmentLine, TrackingEvent
from orders.services.shipments import shipment_create
from orders.services.tracking import CarrierEvent, tracking_events_apply, tracking_url

RECENT_EVENTS = 20  # tracking events a shipment's detail shows, newest first
MAX_ID = 2**63 - 1
MAX_EVENTS = 500


class ShipmentPagination(CursorPagination):
    ordering = ("-shipped_at", "-id")


class EventPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")


# --- reads --------------------------------------------------------------------------------------


def shipment_list() -> QuerySet[Shipment]:
    return Shipment.objects.select_related("carrier", "order")


def shipment_detail() -> QuerySet[Shipment]:
    return (
        shipment_list()
        .select_related("pickup_location")
        .prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line__product")))
    )


def recent_events(shipment: Shipment) -> list[TrackingEvent]:
    return list(TrackingEvent.objects.filter(shipment=shipment).order_by("-occurred_at", "-id")[:RECENT_EVENTS])


# --- output -------------------------------------------------------------------------------------


class ProductRef(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()


class ShipmentLineOut(serializers.Serializer):
    id = serializers.IntegerField()
    order_line = serializers.IntegerField(source="order_line_id")
    product = ProductRef(source="order_line.product")
    quantity = serializers.IntegerField()


class TrackingEventOut(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = [
            "id",
            "event_id",
            "status",
            "occurred_at",
            "description",
            "place",
            "estimated_delivery",
            "received_at",
        ]


class ShipmentOut(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    carrier = serializers.CharField(source="carrier.code", read_only=True, help_text="The carrier's code")
    carrier_name = serializers.CharField(source="carrier.name", read_only=True)
    tracking_url = serializers.SerializerMethodField()

    class Meta:
        model = Shipment
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "carrier",
            "carrier_name",
            "service_level",
            "tracking_number",
            "tracking_url",
            "status",
            "estimated_delivery",
            "pickup_location",
            "shipped_at",
            "delivered_at",
            "last_event_at",
        ]

    def get_tracking_url(self, shipment) -> str:
        return tracking_url(shipment.carrier, shipment.tracking_number)


class ShipmentDetailOut(ShipmentOut):
    lines = ShipmentLineOut(many=True, read_only=True)
    currency = serializers.CharField(source="order.currency", read_only=True)
    captured = serializers.SerializerMethodField(help_text="Payment captured when these goods shipped")
    events = serializers.SerializerMethodField(help_text=f"The newest {RECENT_EVENTS} tracking events")

    class Meta(ShipmentOut.Meta):
        fields = [*ShipmentOut.Meta.fields, "lines", "currency", "captured", "events"]

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_captured(self, shipment):
        total = Charge.objects.filter(shipment=shipment, kind=ChargeKind.CAPTURE).aggregate(total=Sum("amount"))
        field = serializers.DecimalField(max_digits=12, decimal_places=2)
        return field.to_representation(total["total"] or 0)

    @extend_schema_field(TrackingEventOut(many=True))
    def get_events(self, shipment):
        return TrackingEventOut(recent_events(shipment), many=True).data


class PickupPointOut(serializers.Serializer):
    name = serializers.CharField()
    address_line1 = serializers.CharField()
    postcode = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()


class MyShipmentLineOut(serializers.Serializer):
    product = serializers.CharField(source="order_line.product.name")
    quantity = serializers.IntegerField()


class MyTrackingEventOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    occurred_at = serializers.DateTimeField()
    description = serializers.CharField()
    place = serializers.CharField()


class MyShipmentOut(serializers.Serializer):
    """A parcel as the customer's app shows it: no internal ids beyond the shipment's own."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    order_number = serializers.CharField(source="order.number")
    carrier = serializers.CharField(source="carrier.name")
    tracking_number = serializers.CharField()
    tracking_url = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    estimated_delivery = serializers.DateTimeField(allow_null=True)
    pickup_point = PickupPointOut(source="pickup_location", allow_null=True)
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    lines = MyShipmentLineOut(many=True)

    def get_tracking_url(self, shipment) -> str:
        return tracking_url(shipment.carrier, shipment.tracking_number)


class MyShipmentDetailOut(MyShipmentOut):
    events = serializers.SerializerMethodField(help_text=f"The newest {RECENT_EVENTS} tracking events")

    @extend_schema_field(MyTrackingEventOut(many=True))
    def get_events(self, shipment):
        return MyTrackingEventOut(recent_events(shipment), many=True).data


# --- input --------------------------------------------------------------------------------------


def _id_field(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class ShipmentLineInput(StrictSerializer):
    order_line = _id_field(help_text="The order line's id")
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class ShipmentInput(StrictSerializer):
    """What left the warehouse: which units of which order, with which carrier and tracking number."""

    order = serializers.PrimaryKeyRelatedField(queryset=Order.objects.all(), pk_field=_id_field())
    carrier = SlugField(slug_field="code", queryset=Carrier.objects.all(), help_text="The carrier's code")
    tracking_number = serializers.CharField(max_length=64)
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices, required=False)
    estimated_delivery = serializers.DateTimeField(required=False, allow_null=True)
    pickup_location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), pk_field=_id_field(), required=False, allow_null=True
    )
    shipped_at = serializers.DateTimeField(required=False)
    lines = ShipmentLineInput(many=True, allow_empty=False, max_length=500)


class OffsetDateTimeField(serializers.DateTimeField):
    """ISO 8601 with its UTC offset: a carrier's local time without one is ambiguous."""

    default_error_messages = {"naive": "Give the UTC offset, e.g. 2026-11-23T14:05:00+01:00."}

    def enforce_timezone(self, value):
        if value.tzinfo is None:
            self.fail("naive")
        return super().enforce_timezone(value)


class CarrierEventInput(serializers.Serializer):
    """One tracking event. Fields a carrier adds beyond these are ignored (carriers extend their
    payloads without notice); a description or place longer than we keep is cut."""

    event_id = serializers.CharField(max_length=100, help_text="The carrier's id of the event; applied once")
    tracking_number = serializers.CharField(max_length=64)
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    occurred_at = OffsetDateTimeField()
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    estimated_delivery = OffsetDateTimeField(required=False, allow_null=True, default=None)


class CarrierBatchInput(serializers.Serializer):
    events = CarrierEventInput(many=True, allow_empty=False, max_length=MAX_EVENTS)


class CarrierBatchOut(serializers.Serializer):
    applied = serializers.IntegerField(help_text="Stored against their shipment")
    duplicates = serializers.IntegerField(help_text="Event ids received before (or twice in this call)")
    unmatched = serializers.IntegerField(help_text="Stored; applied when a shipment with the tracking number appears")


# --- staff and customer views -------------------------------------------------------------------


class ShipmentFilter(filters.FilterSet):
    carrier = filters.CharFilter(field_name="carrier__code", help_text="The carrier's code")
    status = filters.MultipleChoiceFilter(choices=ShipmentStatus.choices)

    class Meta:
        model = Shipment
        fields = ["order", "carrier", "status", "tracking_number"]


class ShipmentViewSet(
    StaffViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Parcels handed to carriers, with their tracking. Creating one captures the payment for what
    shipped, so a POST needs an Idempotency-Key."""

    queryset = shipment_list()
    pagination_class = ShipmentPagination
    filterset_class = ShipmentFilter
    search_fields = []
    ordering_fields = []
    idempotency_required = ["create"]

    def get_queryset(self):
        if self.action == "list":
            return self.restrict(shipment_list())
        return self.restrict(shipment_detail())

    def get_serializer_class(self):
        if self.action == "create":
            return ShipmentInput
        return ShipmentOut if self.action == "list" else ShipmentDetailOut

    @extend_schema(request=ShipmentInput, responses={201: ShipmentDetailOut}, parameters=[IDEMPOTENCY_KEY])
    def create(self, request, *args, **kwargs):
        serializer = ShipmentInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = [(line["order_line"], line["quantity"]) for line in data.pop("lines")]
        shipment = shipment_create(actor=request.user, lines=lines, **data)
        body = ShipmentDetailOut(shipment_detail().get(pk=shipment.pk)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": f"{request.path}{shipment.pk}/"})

    @extend_schema(responses=TrackingEventOut(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=EventPagination, filterset_class=None)
    def events(self, request, pk=None):
        """Every tracking event of the shipment, newest first, including the late ones that did
        not change its status."""
        shipment = self.get_object()
        page = self.paginate_queryset(TrackingEvent.objects.filter(shipment=shipment))
        return self.get_paginated_response(TrackingEventOut(page, many=True).data)


class MyShipmentViewSet(CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's parcels; another customer's are not found."""

    pagination_class = ShipmentPagination
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return shipment_detail()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.base_queryset().none()
        return self.base_queryset().filter(order__customer=self.customer)

    def get_serializer_class(self):
        return MyShipmentOut if self.action == "list" else MyShipmentDetailOut


# --- the carriers' webhook ----------------------------------------------------------------------


class CarrierWebhookView(APIView):
    """`POST /webhooks/carriers/{carrier}/`: a carrier pushes a batch of 1 to 500 tracking events.

    No user authentication and no throttle: the signature authenticates the call.
    `X-Carrier-Signature: sha256=<hex>` is HMAC-SHA256 with the carrier's shared secret over
    `"{X-Carrier-Timestamp}."` followed by the raw body; a timestamp more than
    CARRIER_WEBHOOK_MAX_AGE away from our clock is refused, so a captured call cannot be replayed.
    No Idempotency-Key either (this view is not an IdempotentPostMixin): carriers retry whole
    batches, and each event is applied once by its event id, so a repeated batch reports its
    events as duplicates. The body is validated in full before anything is applied."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    parser_classes = [JSONParser]  # the body is read raw (it is signed); this tells the schema it is JSON

    def get_authenticate_header(self, request):
        return 'CarrierSignature realm="carrier-webhook"'

    @extend_schema(
        operation_id="carrier_webhook",
        request=CarrierBatchInput,
        responses={
            200: CarrierBatchOut,
            400: OpenApiResponse(description="Malformed JSON or invalid events (problem+json); nothing applied"),
            401: OpenApiResponse(description="Missing or bad signature, or a stale timestamp (problem+json)"),
            404: OpenApiResponse(description="No active carrier with this code"),
        },
        parameters=[
            OpenApiParameter("X-Carrier-Timestamp", OpenApiTypes.INT, OpenApiParameter.HEADER, required=True),
            OpenApiParameter(
                "X-Carrier-Signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description='"sha256=" and the hex HMAC-SHA256 of "{timestamp}." + body with the shared secret',
            ),
        ],
    )
    def post(self, request, carrier):
        carrier = Carrier.objects.filter(code=carrier, is_active=True).first()
        if carrier is None:
            raise exceptions.NotFound("No active carrier with this code.")
        body = request.body
        verify_signature(carrier, request.headers, body)
        serializer = CarrierBatchInput(data=_json(body))
        serializer.is_valid(raise_exception=True)
        events = [CarrierEvent(**event) for event in serializer.validated_data["events"]]
        result = tracking_events_apply(carrier=carrier, events=events)
        return Response({"applied": result.applied, "duplicates": result.duplicates, "unmatched": result.unmatched})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(carrier: Carrier, headers, body: bytes) -> None:
    timestamp = headers.get("X-Carrier-Timestamp", "")
    signature = headers.get("X-Carrier-Signature", "")
    if not timestamp or not signature:
        raise exceptions.AuthenticationFailed(
            "Sign the call: X-Carrier-Timestamp and X-Carrier-Signature are required.", code="signature_missing"
        )
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise exceptions.AuthenticationFailed("X-Carrier-Timestamp is Unix time in seconds.", code="signature_invalid")
    scheme, _, digest = signature.partition("=")
    expected = sign(carrier.webhook_secret, timestamp, body)
    if scheme != "sha256" or not hmac.compare_digest(expected.encode(), digest.encode("utf-8", "replace")):
        raise exceptions.AuthenticationFailed(
            "The signature does not match the body and timestamp.", code="signature_invalid"
        )
    max_age = settings.CARRIER_WEBHOOK_MAX_AGE.total_seconds()
    skew = time.time() - int(timestamp)
    if skew > max_age:
        raise exceptions.AuthenticationFailed(
            f"Replay refused: the call was signed {int(skew)} s ago, more than the {int(max_age)} s allowed.",
            code="signature_expired",
        )
    if skew < -max_age:
        raise exceptions.AuthenticationFailed(
            f"Replay refused: the timestamp is {int(-skew)} s ahead of our clock, more than the {int(max_age)} s "
            "allowed; check the clock.",
            code="signature_expired",
        )


def _json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from exc


urlpatterns = [
    path("webhooks/carriers/<slug:carrier>/", CarrierWebhookView.as_view(), name="carrier-webhook"),
]


def register(router: SimpleRouter) -> None:
    router.register("shipments", ShipmentViewSet, basename="shipment")
    router.register("me/shipments", MyShipmentViewSet, basename="my-shipment")
