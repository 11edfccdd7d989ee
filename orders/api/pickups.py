"""Pickups. Staff (`pickups`) list them, make them ready, hand them over against the customer's
code and cancel them; no staff response ever carries the code. Customers (`me/pickups`) see their
own, with the code and where and when to collect."""

import django_filters as filters
from django import forms
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import CursorPagination
from core.api.serializers import LocationSerializer
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.models import Location, Product
from orders import selectors_pickups as selectors
from orders.models import Order, Pickup, PickupLine
from orders.services import pickups as services
from orders.services.orders import check_not_service_order

MAX_ID = 2**63 - 1
MAX_LINES = 200

# --- output -----------------------------------------------------------------------------------


class PickupCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField(source="full_name")


class PickupPlaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name", "time_zone"]


class PickupAssociateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.email


class PickupProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name"]


class PickupLineSerializer(serializers.ModelSerializer):
    product = PickupProductSerializer(source="order_line.product", read_only=True)

    class Meta:
        model = PickupLine
        fields = ["id", "order_line", "product", "quantity"]


class PickupSerializer(serializers.ModelSerializer):
    """A pickup as staff see it: everything but the code."""

    order_number = serializers.CharField(source="order.number", read_only=True)
    customer = PickupCustomerSerializer(read_only=True)
    location = PickupPlaceSerializer(read_only=True)
    items = serializers.IntegerField(read_only=True, help_text="Units waiting in this pickup")
    collected_by = PickupAssociateSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Pickup
        fields = [
            "id",
            "number",
            "order",
            "order_number",
            "customer",
            "location",
            "status",
            "items",
            "ready_at",
            "expires_at",
            "reminded_at",
            "collected_at",
            "collected_by",
            "closed_at",
        ]


class SuggestedProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="product.id")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    category = serializers.CharField(source="product.category.slug")
    price = serializers.DecimalField(source="product.price", max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="product.currency")
    available = serializers.IntegerField(help_text="Units free to sell at the pickup's location")
    reason = serializers.ChoiceField(choices=list(selectors.REASONS.values()))


class SuggestedServiceSerializer(serializers.Serializer):
    service = serializers.ChoiceField(choices=[service for _, service in selectors.SERVICE_FLAGS])
    title = serializers.CharField()
    product = PickupProductSerializer()


class PickupSuggestionsSerializer(serializers.Serializer):
    products = SuggestedProductSerializer(many=True, help_text="Same category first, then cheapest first")
    services = SuggestedServiceSerializer(many=True)


class PickupDetailSerializer(PickupSerializer):
    lines = PickupLineSerializer(many=True, read_only=True)
    suggestions = serializers.SerializerMethodField(help_text="What to offer at the hand-over")

    class Meta(PickupSerializer.Meta):
        fields = [*PickupSerializer.Meta.fields, "lines", "suggestions"]

    @extend_schema_field(PickupSuggestionsSerializer)
    def get_suggestions(self, pickup):
        return PickupSuggestionsSerializer(selectors.pickup_suggestions(pickup)).data


class MyPickupSerializer(serializers.ModelSerializer):
    """The customer's own pickup: with the code they show or type when they collect."""

    order_number = serializers.CharField(source="order.number", read_only=True)
    location = LocationSerializer(read_only=True, help_text="Where to collect: address, opening hours, phone")
    lines = PickupLineSerializer(many=True, read_only=True)

    class Meta:
        model = Pickup
        fields = [
            "id",
            "number",
            "order_number",
            "status",
            "code",
            "location",
            "lines",
            "ready_at",
            "expires_at",
            "collected_at",
            "closed_at",
        ]


# --- input ------------------------------------------------------------------------------------


def _id_field(queryset):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID)
    )


class PickupLineInputSerializer(StrictSerializer):
    order_line = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class PickupCreateSerializer(StrictSerializer):
    order = _id_field(Order.objects.all())
    location = _id_field(Location.objects.all())
    lines = serializers.ListField(
        child=PickupLineInputSerializer(),
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text="Omit to take every unit not yet delivered, cancelled or waiting in another pickup.",
    )


class HandOverSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40, help_text="The customer's pickup code; case and dashes do not matter")


class PickupCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)


# --- views ------------------------------------------------------------------------------------


class StrictBooleanField(forms.NullBooleanField):
    """true or false; anything else is a 400, not a silently ignored filter."""

    widget = forms.TextInput

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if not text:
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField


class PickupFilter(filters.FilterSet):
    location_code = filters.CharFilter(field_name="location__code")
    order_number = filters.CharFilter(field_name="order__number")
    due_today = StrictBooleanFilter(
        method="filter_due_today",
        help_text="Ready pickups whose deadline is today in their location's time zone (false: all others)",
    )

    class Meta:
        model = Pickup
        fields = ["location", "status", "customer", "order"]

    def filter_due_today(self, queryset, name, value):
        if value is None:
            return queryset
        due = selectors.due_today_q()
        return queryset.filter(due) if value else queryset.exclude(due)


class PickupPagination(CursorPagination):
    ordering = ("expires_at", "id")


class MyPickupPagination(CursorPagination):
    ordering = ("-ready_at", "-id")


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class PickupViewSet(
    StaffViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Pickups waiting at stores, lockers and pickup points, soonest deadline first."""

    queryset = Pickup.objects.all()
    pagination_class = PickupPagination
    filterset_class = PickupFilter
    search_fields = ["=number", "=order__number", "=customer__number"]
    ordering_fields = []
    idempotency_required = ["hand_over"]  # it may capture the payment for what is handed over
    action_permissions = {"hand_over": "orders.change_pickup", "cancel": "orders.change_pickup"}
    secret_lookup_actions = ("hand_over",)

    def get_queryset(self):
        if self.action == "list":
            return self.restrict(selectors.pickup_list())
        return self.restrict(selectors.pickup_detail())

    def get_serializer_class(self):
        return PickupSerializer if self.action == "list" else PickupDetailSerializer

    def _detail(self, pickup, status_code=status.HTTP_200_OK) -> Response:
        return Response(PickupDetailSerializer(selectors.pickup_detail().get(pk=pickup.pk)).data, status=status_code)

    @extend_schema(request=PickupCreateSerializer, responses={201: PickupDetailSerializer})
    def create(self, request, *args, **kwargs):
        """The goods are at the location: reserve them, send the customer the code and deadline."""
        serializer = PickupCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_not_service_order(serializer.validated_data["order"])
        pickup = services.pickup_ready(actor=request.user, **serializer.validated_data)
        response = self._detail(pickup, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{pickup.pk}/"
        return response

    @extend_schema(request=HandOverSerializer, responses=PickupDetailSerializer)
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        """Hand the goods over against the customer's code (a wrong code: 422, nothing changes)."""
        serializer = HandOverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pickup = services.pickup_hand_over(
            actor=request.user, pickup=self.get_object(), code=serializer.validated_data["code"]
        )
        return self._detail(pickup)

    @extend_schema(request=PickupCancelSerializer, responses=PickupDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call the pickup off; its reservation goes back, the order's units stay open."""
        serializer = PickupCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pickup = services.pickup_cancel(
            actor=request.user, pickup=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return self._detail(pickup)


class MyPickupViewSet(CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's pickups, newest first, with their codes."""

    serializer_class = MyPickupSerializer
    pagination_class = MyPickupPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.customer_pickup_list()


urlpatterns = []


def register(router: SimpleRouter) -> None:
    router.register("pickups", PickupViewSet, basename="pickup")
    router.register("me/pickups", MyPickupViewSet, basename="my-pickup")
