"""Orders: the agent's one-call view of an order, creation and upsert from selling systems,
the charges ledger, cancelling what has not shipped, and the customer's own orders."""

import json
from decimal import Decimal
from typing import NamedTuple

from django.http import Http404
from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from core.api.base import IdempotentPostMixin, StaffModelViewSet, StrictSerializer
from core.api.pagination import CursorPagination
from core.api.permissions import StaffModelPermissions
from core.api.serializers import SlugField, _datetime
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.models import Customer, Location, Product, mask_secrets
from orders import selectors
from orders.choices import OPEN_ORDER_STATUSES, SELLING_SOURCES, ChargeKind, OrderStatus, RiskReason
from orders.models import Charge, Order
from orders.services import charges as charge_services
from orders.services import orders as order_services


class OrderPagination(CursorPagination):
    ordering = ("-placed_at", "-id")


# --- input --------------------------------------------------------------------------------------

AMOUNT = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}


class LineInput(StrictSerializer):
    product = SlugField(slug_field="sku", queryset=Product.objects.all(), help_text="The product's SKU")
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)
    unit_price = serializers.DecimalField(**AMOUNT)
    discount = serializers.DecimalField(**AMOUNT, required=False)
    tax = serializers.DecimalField(**AMOUNT, required=False)
    promised_date = serializers.DateField(required=False, allow_null=True)


class PaymentInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=[(k, ChargeKind(k).label) for k in order_services.PAYMENT_KINDS])
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)


class OrderInput(StrictSerializer):
    """An order as a till, web shop or agent sends it. Without payments, the total waits as a
    pending charge; with them, they must add up to the total."""

    customer = SlugField(slug_field="number", queryset=Customer.objects.all(), help_text="The customer's number")
    channel = serializers.ChoiceField(choices=Order._meta.get_field("channel").choices)
    location = SlugField(
        slug_field="code",
        queryset=Location.objects.all(),
        required=False,
        allow_null=True,
        help_text="Selling location",
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217, default EUR")
    placed_at = serializers.DateTimeField(required=False)
    fulfilment = serializers.ChoiceField(choices=Order._meta.get_field("fulfilment").choices, required=False)
    service_level = serializers.ChoiceField(choices=Order._meta.get_field("service_level").choices, required=False)
    promised_date = serializers.DateField(required=False, allow_null=True)
    lines = LineInput(many=True, allow_empty=False, max_length=500)
    payments = PaymentInput(many=True, required=False, max_length=20)


class OrderCreateInput(OrderInput):
    source = serializers.ChoiceField(choices=[(c.value, c.label) for c in SELLING_SOURCES], required=False)
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("external_id") and not attrs.get("source"):
            raise serializers.ValidationError({"source": ["Required with external_id."]})
        return attrs


class CancelLineInput(StrictSerializer):
    line = serializers.IntegerField(min_value=1, help_text="The order line's id")
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class CancelLinesInput(StrictSerializer):
    lines = CancelLineInput(many=True, allow_empty=False, max_length=500)
    reason = serializers.CharField(max_length=300)


class SettleInput(StrictSerializer):
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)


# --- output -------------------------------------------------------------------------------------


class OrderCustomer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField(source="full_name")


class OrderLocation(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class OrderProduct(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()


class OrderLineOut(serializers.Serializer):
    id = serializers.IntegerField()
    product = OrderProduct()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    promised_date = serializers.DateField(allow_null=True)
    quantity_shipped = serializers.IntegerField()
    quantity_delivered = serializers.IntegerField()
    quantity_cancelled = serializers.IntegerField()


class OrderCharge(serializers.ModelSerializer):
    class Meta:
        model = Charge
        fields = [
            "id",
            "kind",
            "status",
            "amount",
            "currency",
            "reference",
            "shipment",
            "note",
            "created_at",
            "settled_at",
        ]


class OrderLedger(serializers.Serializer):
    """`past_charges` and `pending_charges` are sums of `entries`; with the credits and the value of
    cancelled units they add up to the order's total."""

    past_charges = serializers.DecimalField(max_digits=12, decimal_places=2)
    pending_charges = serializers.DecimalField(max_digits=12, decimal_places=2)
    credits = serializers.DecimalField(max_digits=12, decimal_places=2)
    entries = OrderCharge(many=True)


def ledger_representation(rows) -> dict:
    ledger = charge_services.ledger_from_rows(rows)
    return OrderLedger(
        {"past_charges": ledger.past, "pending_charges": ledger.pending, "credits": ledger.credits, "entries": rows}
    ).data


class OrderShipmentLine(serializers.Serializer):
    order_line = serializers.IntegerField(source="order_line_id")
    quantity = serializers.IntegerField()


class OrderTrackingEvent(serializers.Serializer):
    status = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    description = serializers.CharField()
    place = serializers.CharField()


class OrderShipment(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    carrier = serializers.CharField(source="carrier.name")
    tracking_number = serializers.CharField()
    tracking_url = serializers.SerializerMethodField()
    service_level = serializers.CharField()
    status = serializers.CharField()
    estimated_delivery = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    pickup_location = OrderLocation(allow_null=True)
    lines = OrderShipmentLine(many=True)
    events = serializers.SerializerMethodField(help_text=f"The newest {selectors.EVENTS_SHOWN}")

    def get_tracking_url(self, shipment) -> str:
        return _tracking_url(shipment.carrier.tracking_url, shipment.tracking_number)

    @extend_schema_field(OrderTrackingEvent(many=True))
    def get_events(self, shipment):
        return OrderTrackingEvent(list(shipment.events.all())[: selectors.EVENTS_SHOWN], many=True).data


class OrderDeliveryLine(serializers.Serializer):
    order_line = serializers.IntegerField(source="order_line_id")
    quantity = serializers.IntegerField()
    quantity_received = serializers.IntegerField(allow_null=True)
    condition = serializers.CharField()


class OrderDelivery(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    service = serializers.CharField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    address = serializers.SerializerMethodField()
    instructions = serializers.CharField()
    lines = OrderDeliveryLine(many=True)

    def get_address(self, delivery) -> str:
        return delivery_address(
            delivery.address_line1, delivery.address_line2, delivery.postcode, delivery.city, delivery.country
        )


def delivery_address(line1: str, line2: str, postcode: str, city: str, country: str) -> str:
    return ", ".join(part for part in (line1, line2, f"{postcode} {city}", country) if part.strip())


class OrderDeliveryException(serializers.Serializer):
    id = serializers.IntegerField()
    delivery = serializers.IntegerField(source="delivery_id")
    kind = serializers.CharField()
    status = serializers.CharField()
    remedy = serializers.CharField()
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class OrderPickupLine(serializers.Serializer):
    order_line = serializers.IntegerField(source="order_line_id")
    quantity = serializers.IntegerField()


class OrderPickup(serializers.Serializer):
    """No code here: only its customer sees it, in me/pickups/."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    location = OrderLocation()
    ready_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    collected_at = serializers.DateTimeField(allow_null=True)
    lines = OrderPickupLine(many=True)


class OrderMessage(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    channel = serializers.CharField()
    subject = serializers.SerializerMethodField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)

    def get_subject(self, message) -> str:
        return message.masked(message.subject)


class OrderAtRisk(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RiskReason.choices, source="at_risk_reason")
    since = serializers.DateTimeField(source="at_risk_since")
    revised_estimate = serializers.DateField(allow_null=True)


class OrderListOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    customer = OrderCustomer()
    channel = serializers.CharField()
    source = serializers.CharField()
    external_id = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    placed_at = serializers.DateTimeField()
    fulfilment = serializers.CharField()
    promised_date = serializers.DateField(allow_null=True)
    at_risk = serializers.SerializerMethodField()

    @extend_schema_field(OrderAtRisk(allow_null=True))
    def get_at_risk(self, order):
        return OrderAtRisk(order).data if order.at_risk_since else None


class OrderDetailOut(OrderListOut):
    location = OrderLocation(allow_null=True)
    associate = serializers.SerializerMethodField()
    service_level = serializers.CharField()
    lines = OrderLineOut(many=True)
    charges = serializers.SerializerMethodField()
    shipments = OrderShipment(many=True)
    deliveries = OrderDelivery(many=True)
    delivery_exceptions = OrderDeliveryException(many=True)
    pickups = OrderPickup(many=True)
    messages = serializers.SerializerMethodField(
        help_text=f"The newest {selectors.MESSAGES_SHOWN} sent about this order"
    )

    def get_associate(self, order) -> str | None:
        user = order.associate
        return (user.get_full_name() or user.email) if user else None

    @extend_schema_field(OrderLedger)
    def get_charges(self, order):
        return ledger_representation(list(order.charges.all()))

    @extend_schema_field(OrderMessage(many=True))
    def get_messages(self, order):
        return OrderMessage(selectors.order_messages(order), many=True).data

    def to_representation(self, order):
        return order_representation(order)


# The order detail is the agent's most-read call. OrderDetailOut and its nested serializers declare
# the response (the OpenAPI schema reads them, and tests/orders/test_order_representation.py holds
# the functions below to their output), but the output is built here by hand: DRF builds every
# field object of every nested serializer per request and passes each value of each row through
# them, which cost more than the queries. On PostgreSQL selectors.order_record() has PostgreSQL
# build the JSON, and only what has its rule in Python is finished here; elsewhere the ORM's rows.
_MONEY = serializers.DecimalField(max_digits=12, decimal_places=2)


def _money(value) -> str:
    return _MONEY.to_representation(value)


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


def _tracking_url(template: str, tracking_number: str) -> str:
    return template.replace("{tracking_number}", tracking_number) if template else ""


def _place(location) -> dict | None:
    return {"id": location.id, "code": location.code, "name": location.name} if location is not None else None


class _ChargeRow(NamedTuple):
    kind: str
    status: str
    amount: Decimal


def _ledger(entries: list[dict], rows) -> dict:
    ledger = charge_services.ledger_from_rows(rows)
    return {
        "past_charges": _money(ledger.past),
        "pending_charges": _money(ledger.pending),
        "credits": _money(ledger.credits),
        "entries": entries,
    }


def order_representation(order) -> dict:
    """OrderDetailOut's output for an order read by selectors.order_record()."""
    detail = getattr(order, "detail_json", None)
    if detail is not None:
        return _finish(json.loads(detail))
    return _from_models(order)


def _finish(data: dict) -> dict:
    """The JSON PostgreSQL built, with the values whose rule lives in Python put in place (each
    assigned to its key, so the keys keep the order of the declared fields)."""
    customer = data["customer"]
    customer["name"] = f"{customer['name'][0]} {customer['name'][1]}".strip()
    if data["associate"] is not None:
        first_name, last_name, email = data["associate"]
        data["associate"] = f"{first_name} {last_name}".strip() or email
    entries = data["charges"]
    data["charges"] = _ledger(
        entries, [_ChargeRow(row["kind"], row["status"], Decimal(row["amount"])) for row in entries]
    )
    for delivery in data["deliveries"]:
        delivery["address"] = delivery_address(*delivery["address"])
    for message in data["messages"]:
        message["subject"] = mask_secrets(message["subject"], message.pop("secrets"))
    return data


def _from_models(order) -> dict:
    """The same from the ORM read of selectors.order_detail() (SQLite)."""
    associate = order.associate
    charges = list(order.charges.all())
    return {
        "id": order.id,
        "number": order.number,
        "customer": {"id": order.customer.id, "number": order.customer.number, "name": order.customer.full_name},
        "channel": order.channel,
        "source": order.source,
        "external_id": order.external_id,
        "status": order.status,
        "currency": order.currency,
        "total": _money(order.total),
        "placed_at": _datetime(order.placed_at),
        "fulfilment": order.fulfilment,
        "promised_date": _date(order.promised_date),
        "at_risk": {
            "reason": order.at_risk_reason,
            "since": _datetime(order.at_risk_since),
            "revised_estimate": _date(order.revised_estimate),
        }
        if order.at_risk_since
        else None,
        "location": _place(order.location),
        "associate": (associate.get_full_name() or associate.email) if associate else None,
        "service_level": order.service_level,
        "lines": [
            {
                "id": line.id,
                "product": {"id": line.product.id, "sku": line.product.sku, "name": line.product.name},
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "discount": _money(line.discount),
                "tax": _money(line.tax),
                "amount": _money(line.amount),
                "promised_date": _date(line.promised_date),
                "quantity_shipped": line.quantity_shipped,
                "quantity_delivered": line.quantity_delivered,
                "quantity_cancelled": line.quantity_cancelled,
            }
            for line in order.lines.all()
        ],
        "charges": _ledger(
            [
                {
                    "id": charge.id,
                    "kind": charge.kind,
                    "status": charge.status,
                    "amount": _money(charge.amount),
                    "currency": charge.currency,
                    "reference": charge.reference,
                    "shipment": charge.shipment_id,
                    "note": charge.note,
                    "created_at": _datetime(charge.created_at),
                    "settled_at": _datetime(charge.settled_at),
                }
                for charge in charges
            ],
            charges,
        ),
        "shipments": [_shipment(shipment) for shipment in order.shipments.all()],
        "deliveries": [
            {
                "id": delivery.id,
                "number": delivery.number,
                "status": delivery.status,
                "service": delivery.service,
                "window_start": _datetime(delivery.window_start),
                "window_end": _datetime(delivery.window_end),
                "address": delivery_address(
                    delivery.address_line1,
                    delivery.address_line2,
                    delivery.postcode,
                    delivery.city,
                    delivery.country,
                ),
                "instructions": delivery.instructions,
                "lines": [
                    {
                        "order_line": line.order_line_id,
                        "quantity": line.quantity,
                        "quantity_received": line.quantity_received,
                        "condition": line.condition,
                    }
                    for line in delivery.lines.all()
                ],
            }
            for delivery in order.deliveries.all()
        ],
        "delivery_exceptions": [
            {
                "id": exception.id,
                "delivery": exception.delivery_id,
                "kind": exception.kind,
                "status": exception.status,
                "remedy": exception.remedy,
                "opened_at": _datetime(exception.opened_at),
                "resolved_at": _datetime(exception.resolved_at),
            }
            for exception in order.delivery_exceptions.all()
        ],
        "pickups": [
            {
                "id": pickup.id,
                "number": pickup.number,
                "status": pickup.status,
                "location": _place(pickup.location),
                "ready_at": _datetime(pickup.ready_at),
                "expires_at": _datetime(pickup.expires_at),
                "collected_at": _datetime(pickup.collected_at),
                "lines": [{"order_line": line.order_line_id, "quantity": line.quantity} for line in pickup.lines.all()],
            }
            for pickup in order.pickups.all()
        ],
        "messages": [
            {
                "id": message.id,
                "event": message.event,
                "channel": message.channel,
                "subject": message.masked(message.subject),
                "status": message.status,
                "created_at": _datetime(message.created_at),
                "sent_at": _datetime(message.sent_at),
            }
            for message in selectors.order_messages(order)
        ],
    }


def _shipment(shipment) -> dict:
    carrier = shipment.carrier
    return {
        "id": shipment.id,
        "number": shipment.number,
        "carrier": carrier.name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": _tracking_url(carrier.tracking_url, shipment.tracking_number),
        "service_level": shipment.service_level,
        "status": shipment.status,
        "estimated_delivery": _datetime(shipment.estimated_delivery),
        "shipped_at": _datetime(shipment.shipped_at),
        "delivered_at": _datetime(shipment.delivered_at),
        "pickup_location": _place(shipment.pickup_location),
        "lines": [{"order_line": line.order_line_id, "quantity": line.quantity} for line in shipment.lines.all()],
        "events": [
            {
                "status": event.status,
                "occurred_at": _datetime(event.occurred_at),
                "description": event.description,
                "place": event.place,
            }
            for event in list(shipment.events.all())[: selectors.EVENTS_SHOWN]
        ],
    }


# --- views --------------------------------------------------------------------------------------


class OrderFilter(filters.FilterSet):
    customer = filters.CharFilter(field_name="customer__number", help_text="The customer's number")
    status = filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    open = filters.BooleanFilter(method="filter_open", help_text="Not yet delivered or cancelled")
    at_risk = filters.BooleanFilter(method="filter_at_risk", help_text="Flagged by the delay sweep")
    placed_after = filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["channel", "source", "external_id", "location", "fulfilment"]

    def filter_open(self, queryset, name, value):
        return (
            queryset.filter(status__in=OPEN_ORDER_STATUSES)
            if value
            else queryset.exclude(status__in=OPEN_ORDER_STATUSES)
        )

    def filter_at_risk(self, queryset, name, value):
        return queryset.filter(at_risk_since__isnull=not value)


def _order_response(order_id: int, status_code=status.HTTP_200_OK) -> Response:
    return Response(order_representation(selectors.order_record().get(pk=order_id)), status=status_code)


def _order_fields(data: dict, request) -> dict:
    fields = {key: value for key, value in data.items() if key not in ("customer", "lines", "payments")}
    if request.user.has_role("associate", "customer_service") and "associate" not in fields:
        fields["associate"] = request.user  # sold by the person at the till or on the phone
    return fields


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class OrderViewSet(StaffModelViewSet):
    """Orders with everything that followed them. The detail is the agent's one call: lines,
    shipments and tracking, the charges ledger, deliveries, exceptions, pickups and messages."""

    http_method_names = ["get", "post", "head", "options"]
    filterset_class = OrderFilter
    pagination_class = OrderPagination
    search_fields = ["=number", "=external_id", "=customer__number"]
    ordering_fields = []
    action_permissions = {"cancel_lines": "orders.cancel_lines_order", "settle_charge": "orders.change_charge"}

    def get_queryset(self):
        if self.action == "list":
            return self.restrict(selectors.order_list())
        if self.action == "retrieve":
            return self.restrict(selectors.order_record())
        return self.restrict(selectors.order_detail())

    def get_serializer_class(self):
        return OrderListOut if self.action == "list" else OrderDetailOut

    def retrieve(self, request, *args, **kwargs):
        return Response(order_representation(self.get_object()))

    @extend_schema(request=OrderCreateInput, responses={201: OrderDetailOut})
    def create(self, request, *args, **kwargs):
        data = _validated(OrderCreateInput, request.data)
        order = order_services.order_create(
            actor=request.user,
            customer=data["customer"],
            lines=data["lines"],
            payments=data.get("payments", ()),
            **_order_fields(data, request),
        )
        response = _order_response(order.pk, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{order.pk}/"
        return response

    @extend_schema(request=CancelLinesInput, responses=OrderDetailOut)
    @action(detail=True, methods=["post"], url_path="cancel-lines")
    def cancel_lines(self, request, pk=None):
        """Cancel units that have not shipped; their value is released or refunded."""
        data = _validated(CancelLinesInput, request.data)
        order = self.get_object()
        order_services.check_not_service_order(order)
        order = order_services.order_lines_cancel(
            actor=request.user,
            order=order,
            lines=[(line["line"], line["quantity"]) for line in data["lines"]],
            reason=data["reason"],
        )
        return _order_response(order.pk)

    @extend_schema(responses=OrderLedger)
    @action(detail=True, methods=["get"])
    def charges(self, request, pk=None):
        """The charges ledger and its sums."""
        return Response(ledger_representation(list(self.get_object().charges.all())))

    @extend_schema(request=SettleInput, responses=OrderCharge)
    @action(detail=True, methods=["post"], url_path=r"charges/(?P<charge_id>\d+)/settle")
    def settle_charge(self, request, pk=None, charge_id=None):
        """The payment processor confirmed a pending refund or credit."""
        data = _validated(SettleInput, request.data)
        charge = Charge.objects.filter(order=self.get_object(), pk=charge_id).first()
        if charge is None:
            raise Http404
        charge = charge_services.charge_settle(charge=charge, actor=request.user, reference=data.get("reference", ""))
        return Response(OrderCharge(charge).data)


class OrderUpsertView(IdempotentPostMixin, APIView):
    """`PUT /orders/external/{source}/{external_id}/`: a selling system pushes its order; the first
    push creates it (201), a repeat returns it (200) after applying what may still change
    (promise, service level, fulfilment). PUT is idempotent by itself, so no Idempotency-Key."""

    permission_classes = [StaffModelPermissions]
    queryset = Order.objects.none()  # for the model permissions: PUT needs orders.change_order

    @extend_schema(request=OrderInput, responses={200: OrderDetailOut, 201: OrderDetailOut})
    def put(self, request, source, external_id):
        if source not in SELLING_SOURCES:
            raise serializers.ValidationError({"source": [f"Unknown source {source!r}."]})
        if len(external_id) > 64:
            raise serializers.ValidationError({"external_id": ["At most 64 characters."]})
        data = _validated(OrderInput, request.data)
        result = order_services.order_upsert(
            actor=request.user,
            source=source,
            external_id=external_id,
            customer=data["customer"],
            lines=data["lines"],
            payments=data.get("payments", ()),
            **_order_fields(data, request),
        )
        return _order_response(result.order.pk, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class MyOrderViewSet(CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's orders, with everything that followed each."""

    pagination_class = OrderPagination
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.order_list() if self.action == "list" else selectors.order_record()

    def get_serializer_class(self):
        return OrderListOut if self.action == "list" else OrderDetailOut


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


urlpatterns = [
    path(
        "orders/external/<slug:source>/<str:external_id>/",
        OrderUpsertView.as_view(),
        name="order-upsert",
    ),
]


def register(router: SimpleRouter) -> None:
    router.register("orders", OrderViewSet, basename="order")
    router.register("me/orders", MyOrderViewSet, basename="my-order")
