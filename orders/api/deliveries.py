"""Home deliveries and their exceptions: `deliveries` and `delivery-exceptions` for staff,
`me/deliveries` for the customer's app."""

from decimal import Decimal

import django_filters as filters
from django import forms
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import CursorPagination
from core.api.serializers import validate_country
from core.api.views import IDEMPOTENCY_KEY, IF_MATCH, CustomerScopedMixin
from core.models import CustomerAddress, Location
from orders import selectors_deliveries as selectors
from orders.choices import DeliveryService, DeliveryStatus, ExceptionKind, ExceptionStatus, ItemCondition, Remedy
from orders.models import Delivery, DeliveryException, DeliveryLine, Order, OrderLine, Shipment
from orders.services import deliveries as services
from orders.services import delivery_exceptions as remedies

MAX_ID = 2**63 - 1
MAX_UNITS = 10_000

# --- fields ----------------------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose enum is one named schema component (DeliveryStatusEnum), so the many
    `status` fields of different models do not collide in the OpenAPI schema's enum naming."""

    def __init__(self, choices, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": list(field.choices),
                "description": "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items()),
            },
        )
        auto_schema.registry.register_on_missing(component)
        if field.allow_blank:  # not set yet
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref


class IdField(serializers.PrimaryKeyRelatedField):
    """A primary key that is refused (400) before the database sees it when it is not an id."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str) or not str(data).isdigit():
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= int(data) <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


# --- output ----------------------------------------------------------------------------------


class DeliveryAddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(source="address_line1")
    line2 = serializers.CharField(source="address_line2")
    city = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField()


class DeliveryLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="order_line.product.sku", read_only=True)
    product = serializers.CharField(source="order_line.product.name", read_only=True)
    condition = NamedChoiceField(ItemCondition.choices, enum_name="ItemConditionEnum", allow_blank=True, read_only=True)

    class Meta:
        model = DeliveryLine
        fields = ["id", "order_line", "sku", "product", "quantity", "quantity_received", "condition"]


class DeliverySerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    customer_number = serializers.CharField(source="customer.number", read_only=True)
    address = DeliveryAddressSerializer(source="*", read_only=True)
    service = NamedChoiceField(DeliveryService.choices, enum_name="DeliveryServiceEnum", read_only=True)
    status = NamedChoiceField(DeliveryStatus.choices, enum_name="DeliveryStatusEnum", read_only=True)
    change_cutoff = serializers.SerializerMethodField(help_text="Changes are possible until this moment.")
    lines = DeliveryLineSerializer(many=True, read_only=True)
    etag = serializers.SerializerMethodField(help_text="Send it back as If-Match when you change the delivery.")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "customer",
            "customer_number",
            "shipment",
            "window_start",
            "window_end",
            "address",
            "instructions",
            "service",
            "status",
            "change_cutoff",
            "reminded_at",
            "recorded_at",
            "recorded_by",
            "lines",
            "created_at",
            "updated_at",
            "etag",
        ]

    @extend_schema_field(serializers.DateTimeField())
    def get_change_cutoff(self, delivery):
        return serializers.DateTimeField().to_representation(services.change_cutoff(delivery))

    def get_etag(self, delivery) -> str:
        return services.delivery_etag(delivery)


class MyDeliverySerializer(DeliverySerializer):
    """The customer's view: no staff ids."""

    class Meta(DeliverySerializer.Meta):
        fields = [f for f in DeliverySerializer.Meta.fields if f not in ("customer", "customer_number", "recorded_by")]


class DeliveryRefSerializer(serializers.ModelSerializer):
    service = NamedChoiceField(DeliveryService.choices, enum_name="DeliveryServiceEnum", read_only=True)
    status = NamedChoiceField(DeliveryStatus.choices, enum_name="DeliveryStatusEnum", read_only=True)
    lines = DeliveryLineSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "number", "window_start", "window_end", "service", "status", "lines"]


class DeliveryOrderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "number", "currency"]


class DeliveryCustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField(source="full_name")


class DeliveryExceptionLineSerializer(serializers.Serializer):
    """One line of the exception's details, as recorded at the door."""

    order_line = serializers.IntegerField()
    sku = serializers.CharField()
    product = serializers.CharField()
    expected = serializers.IntegerField()
    received = serializers.IntegerField()
    condition = serializers.CharField(allow_blank=True)
    missing = serializers.IntegerField()
    damaged = serializers.IntegerField()


class DeliveryExceptionSerializer(serializers.ModelSerializer):
    delivery = DeliveryRefSerializer(read_only=True)
    order = DeliveryOrderRefSerializer(read_only=True)
    customer = DeliveryCustomerRefSerializer(read_only=True)
    kind = NamedChoiceField(ExceptionKind.choices, enum_name="DeliveryExceptionKindEnum", read_only=True)
    status = NamedChoiceField(ExceptionStatus.choices, enum_name="DeliveryExceptionStatusEnum", read_only=True)
    remedy = NamedChoiceField(Remedy.choices, enum_name="RemedyEnum", allow_blank=True, read_only=True)
    details = DeliveryExceptionLineSerializer(many=True, read_only=True)
    remedies = serializers.SerializerMethodField(help_text="The remedies you may use on this exception now.")

    class Meta:
        model = DeliveryException
        fields = [
            "id",
            "kind",
            "status",
            "delivery",
            "order",
            "customer",
            "details",
            "remedy",
            "resolution_note",
            "opened_at",
            "resolved_at",
            "remedies",
        ]

    @extend_schema_field(serializers.ListField(child=NamedChoiceField(Remedy.choices, enum_name="RemedyEnum")))
    def get_remedies(self, exception):
        return selectors.remedies_at_hand(exception, self.context["request"].user)


# --- input -----------------------------------------------------------------------------------


class DeliveryAddressInputSerializer(StrictSerializer):
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=20)
    country = serializers.CharField(max_length=2, validators=[validate_country])


class DeliveryLineInputSerializer(StrictSerializer):
    order_line = IdField(queryset=OrderLine.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)


class DeliveryCreateSerializer(StrictSerializer):
    order = IdField(queryset=Order.objects.all())
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    address_id = IdField(
        queryset=CustomerAddress.objects.all(), required=False, help_text="A saved address of the order's customer"
    )
    address = DeliveryAddressInputSerializer(required=False, help_text="Or an address typed in")
    instructions = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    service = NamedChoiceField(
        DeliveryService.choices, enum_name="DeliveryServiceEnum", default=DeliveryService.STANDARD
    )
    lines = DeliveryLineInputSerializer(
        many=True, required=False, allow_empty=False, max_length=200, help_text="Default: every unit still to deliver"
    )
    shipment = IdField(queryset=Shipment.objects.all(), required=False, allow_null=True)

    def validate(self, attrs):
        if ("address_id" in attrs) == ("address" in attrs):
            raise serializers.ValidationError({"address": ["Give either address_id or address."]})
        attrs["address"] = attrs.pop("address_id", None) or attrs["address"]
        return attrs


class DeliveryChangeSerializer(StrictSerializer):
    instructions = serializers.CharField(max_length=500, required=False, allow_blank=True)
    window_start = serializers.DateTimeField(required=False)
    window_end = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Nothing to change: send instructions, window_start or window_end.")
        return attrs


class CountedLineSerializer(StrictSerializer):
    order_line = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity_received = serializers.IntegerField(min_value=0, max_value=MAX_UNITS)
    condition = NamedChoiceField(ItemCondition.choices, enum_name="ItemConditionEnum", default=ItemCondition.GOOD)


class DeliveryRecordSerializer(StrictSerializer):
    lines = CountedLineSerializer(many=True, allow_empty=False, max_length=200)
    refused = serializers.BooleanField(default=False, help_text="The customer refused a short or damaged delivery")


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)


class ShipRestSerializer(StrictSerializer):
    new_estimate = serializers.DateField()


class GoodwillSerializer(StrictSerializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    note = serializers.CharField(max_length=300)


class NoteSerializer(StrictSerializer):
    note = serializers.CharField(max_length=300)


# --- filters and pagination ------------------------------------------------------------------


class DeliveryFilter(filters.FilterSet):
    order = IdFilter(field_name="order_id")
    customer = IdFilter(field_name="customer_id")
    location = filters.ModelChoiceFilter(
        field_name="order__location", queryset=Location.objects.all(), help_text="Deliveries of orders sold here"
    )
    status = filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    service = filters.ChoiceFilter(choices=DeliveryService.choices)
    date = filters.DateFilter(
        method="filter_date", help_text="Window opens on this day (in the location's time zone when filtered by one)"
    )

    class Meta:
        model = Delivery
        fields = ["order", "customer", "location", "status", "service", "date"]

    def filter_date(self, queryset, name, value):
        location = self.form.cleaned_data.get("location")
        start, end = selectors.day_bounds(value, location.time_zone if location else "UTC")
        return queryset.filter(window_start__gte=start, window_start__lt=end)


class DeliveryExceptionFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=ExceptionStatus.choices, help_text="Default: the queue (open and escalated)"
    )
    kind = filters.MultipleChoiceFilter(choices=ExceptionKind.choices)
    order = IdFilter(field_name="order_id")
    customer = IdFilter(field_name="customer_id")

    class Meta:
        model = DeliveryException
        fields = ["status", "kind", "order", "customer"]


class WindowPagination(CursorPagination):
    ordering = ("window_start", "id")


class NewestWindowPagination(CursorPagination):
    ordering = ("-window_start", "-id")


class OldestFirstPagination(CursorPagination):
    ordering = ("opened_at", "id")


# --- views -----------------------------------------------------------------------------------


def _delivery_response(delivery, serializer_class=DeliverySerializer, status_code=status.HTTP_200_OK) -> Response:
    """The delivery as read back after a write, with its ETag header."""
    data = serializer_class(selectors.delivery_list().get(pk=delivery.pk)).data
    return Response(data, status=status_code, headers={"ETag": data["etag"]})


def _if_match(request) -> str | None:
    return request.headers.get("If-Match") or None


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class DeliveryViewSet(
    StaffViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Home-delivery appointments: book, change before the cut-off, record at the door, cancel."""

    queryset = selectors.delivery_list()
    serializer_class = DeliverySerializer
    pagination_class = WindowPagination
    filterset_class = DeliveryFilter
    search_fields = ["=number", "=order__number"]
    ordering_fields = []
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {"record": "orders.change_delivery", "cancel": "orders.change_delivery"}

    def get_serializer_class(self):
        return {"create": DeliveryCreateSerializer, "partial_update": DeliveryChangeSerializer}.get(
            self.action, DeliverySerializer
        )

    def retrieve(self, request, *args, **kwargs):
        return _delivery_response(self.get_object())

    @extend_schema(request=DeliveryCreateSerializer, responses={201: DeliverySerializer})
    def create(self, request, *args, **kwargs):
        serializer = DeliveryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.delivery_schedule(actor=request.user, **serializer.validated_data)
        response = _delivery_response(delivery, status_code=status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{delivery.pk}/"
        return response

    @extend_schema(parameters=[IF_MATCH], request=DeliveryChangeSerializer, responses=DeliverySerializer)
    def partial_update(self, request, *args, **kwargs):
        serializer = DeliveryChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.delivery_change(
            actor=request.user, delivery=self.get_object(), if_match=_if_match(request), **serializer.validated_data
        )
        return _delivery_response(delivery)

    @extend_schema(request=DeliveryRecordSerializer, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """Record the count at the door; shortfalls, damage and refusals open exceptions."""
        serializer = DeliveryRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.delivery_record(actor=request.user, delivery=self.get_object(), **serializer.validated_data)
        return _delivery_response(delivery)

    @extend_schema(request=ReasonSerializer, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.delivery_cancel(actor=request.user, delivery=self.get_object(), **serializer.validated_data)
        return _delivery_response(delivery)


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class DeliveryExceptionViewSet(StaffViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Deliveries that went wrong, oldest first, with the remedies at hand."""

    queryset = selectors.exception_list()
    serializer_class = DeliveryExceptionSerializer
    pagination_class = OldestFirstPagination
    filterset_class = DeliveryExceptionFilter
    search_fields = ["=delivery__number", "=order__number"]
    ordering_fields = []
    idempotency_required = ("goodwill", "free_shipping")
    action_permissions = {
        "ship_rest": "orders.change_deliveryexception",
        "goodwill": "orders.change_deliveryexception",
        "free_shipping": "orders.change_deliveryexception",
        "escalate": "orders.change_deliveryexception",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list" and "status" not in self.request.query_params:
            queryset = queryset.filter(status__in=selectors.QUEUE_STATUSES)
        return queryset

    def _answer(self, exception) -> Response:
        exception = selectors.exception_list().get(pk=exception.pk)
        return Response(self.get_serializer(exception).data)

    def _remedy(self, request, serializer_class, service):
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        exception = service(actor=request.user, exception=self.get_object(), **serializer.validated_data)
        return self._answer(exception)

    @extend_schema(request=ShipRestSerializer, responses=DeliveryExceptionSerializer)
    @action(detail=True, methods=["post"], url_path="ship-rest")
    def ship_rest(self, request, pk=None):
        """Ship what did not arrive again, with a new estimate for the customer."""
        return self._remedy(request, ShipRestSerializer, remedies.exception_ship_rest)

    @extend_schema(request=GoodwillSerializer, responses=DeliveryExceptionSerializer)
    @action(detail=True, methods=["post"])
    def goodwill(self, request, pk=None):
        """A goodwill credit within your approval limit (needs an Idempotency-Key)."""
        return self._remedy(request, GoodwillSerializer, remedies.exception_goodwill)

    @extend_schema(request=NoteSerializer, responses=DeliveryExceptionSerializer)
    @action(detail=True, methods=["post"], url_path="free-shipping")
    def free_shipping(self, request, pk=None):
        """Free shipping on the customer's next order (needs an Idempotency-Key)."""
        return self._remedy(request, NoteSerializer, remedies.exception_free_shipping)

    @extend_schema(request=NoteSerializer, responses=DeliveryExceptionSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        return self._remedy(request, NoteSerializer, remedies.exception_escalate)


class MyDeliveryViewSet(CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's deliveries; instructions and window can change until the cut-off."""

    serializer_class = MyDeliverySerializer
    pagination_class = NewestWindowPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []
    http_method_names = ["get", "patch", "head", "options"]

    def base_queryset(self):
        return selectors.delivery_list()

    def get_serializer_class(self):
        return DeliveryChangeSerializer if self.action == "partial_update" else MyDeliverySerializer

    def retrieve(self, request, *args, **kwargs):
        return _delivery_response(self.get_object(), MyDeliverySerializer)

    @extend_schema(parameters=[IF_MATCH], request=DeliveryChangeSerializer, responses=MyDeliverySerializer)
    def partial_update(self, request, *args, **kwargs):
        serializer = DeliveryChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.delivery_change(
            actor=request.user, delivery=self.get_object(), if_match=_if_match(request), **serializer.validated_data
        )
        return _delivery_response(delivery, MyDeliverySerializer)


urlpatterns = []


def register(router: SimpleRouter) -> None:
    router.register("deliveries", DeliveryViewSet, basename="delivery")
    router.register("delivery-exceptions", DeliveryExceptionViewSet, basename="delivery-exception")
    router.register("me/deliveries", MyDeliveryViewSet, basename="my-delivery")
