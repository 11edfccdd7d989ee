"""Alteration work orders. Staff (`alterations`) take them for a customer's purchase and move them
through measurement, work, quality check, pickup and collection, at their home store (managers
and admins anywhere; the services check it); `alteration-kinds` is the catalogue they choose
from; customers (`me/alterations`) follow their own."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.models import AssociateProfile, Location
from core.workflow import allowed_transitions
from installations import selectors_alterations as selectors
from installations import services_alterations as services
from installations.api.appointments import (
    MAX_ID,
    AppointmentAssociateSerializer,
    AppointmentCustomerSerializer,
    AppointmentLocationSerializer,
    AppointmentProductSerializer,
)
from installations.choices import AlterationStatus
from installations.models import Alteration, AlterationKind
from orders.choices import PickupStatus
from orders.models import OrderLine

# --- output -----------------------------------------------------------------------------------


class AlterationKindSerializer(serializers.ModelSerializer):
    skills = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    service_product = serializers.CharField(source="service_product.sku", help_text="The fee's SKU")

    class Meta:
        model = AlterationKind
        fields = ["id", "code", "name", "product", "category", "skills", "turnaround_days", "fee", "currency"]
        fields += ["service_product"]


class AlterationKindBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class AlterationPickupSerializer(serializers.Serializer):
    """The pickup's number and deadline; its code is in `me/pickups` for the customer alone."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=PickupStatus.choices)
    expires_at = serializers.DateTimeField()


class MyAlterationSerializer(serializers.Serializer):
    """A work order as its customer follows it."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=AlterationStatus.choices)
    kind = AlterationKindBriefSerializer()
    order_line = serializers.IntegerField(source="order_line_id")
    order_number = serializers.CharField(source="order_line.order.number")
    product = AppointmentProductSerializer(source="order_line.product")
    location = AppointmentLocationSerializer(help_text="Where the work is done and collected")
    specification = serializers.CharField()
    measurements = serializers.DictField(child=serializers.CharField())
    due_on = serializers.DateField(help_text="Ready by this day")
    fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    fee_order_number = serializers.CharField(source="service_order.number", help_text="The order the fee is on")
    pickup = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(AlterationPickupSerializer(allow_null=True))
    def get_pickup(self, obj):
        return AlterationPickupSerializer(obj.pickup).data if obj.pickup_id else None


class AlterationSerializer(MyAlterationSerializer):
    """A work order as staff work it: the customer, who does it, the last check's finding."""

    customer = AppointmentCustomerSerializer()
    assigned_to = AppointmentAssociateSerializer(allow_null=True)
    quality_note = serializers.CharField()
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True)
    allowed_transitions = serializers.SerializerMethodField(help_text="The steps its state allows now")

    def get_allowed_transitions(self, obj) -> list[str]:
        return allowed_transitions(obj)


# --- input ------------------------------------------------------------------------------------


def _id(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs
    )


class AlterationRequestSerializer(StrictSerializer):
    order_line = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The purchased item's line")
    kind = _id(AlterationKind.objects.select_related("service_product"))
    location = _id(Location.objects.all(), help_text="The store that does the work and hands it back")
    specification = serializers.CharField(max_length=5000, help_text="What is to be done")
    assigned_to = _id(
        AssociateProfile.objects.select_related("user"), required=False, allow_null=True, help_text="Tailor"
    )


class AlterationMeasureSerializer(StrictSerializer):
    measurements = serializers.DictField(
        child=serializers.CharField(max_length=services.MAX_MEASUREMENT_TEXT),
        allow_empty=False,
        help_text='{"inside leg": "78 cm"}',
    )

    def validate_measurements(self, value):
        if len(value) > services.MAX_MEASUREMENTS:
            raise serializers.ValidationError(f"At most {services.MAX_MEASUREMENTS} measurements.")
        return value


class AlterationAssignSerializer(StrictSerializer):
    associate = _id(AssociateProfile.objects.select_related("user"), help_text="Has the kind's skills, at the store")


class AlterationQualityCheckSerializer(StrictSerializer):
    passed = serializers.BooleanField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AlterationCollectSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40, help_text="The customer's pickup code")


class AlterationCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)


class AlterationStepSerializer(StrictSerializer):
    pass


def _input(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- views ------------------------------------------------------------------------------------


class AlterationFilter(filters.FilterSet):
    due_before = filters.DateFilter(field_name="due_on", lookup_expr="lte")
    due_after = filters.DateFilter(field_name="due_on", lookup_expr="gte")

    class Meta:
        model = Alteration
        fields = ["status", "location", "assigned_to", "customer", "kind"]


class DuePagination(CursorPagination):
    ordering = ("due_on", "id")


class NewestPagination(CursorPagination):
    ordering = ("-created_at", "-id")


CONFLICTS = {409: OpenApiResponse(description="Not allowed in its state (`allowed` names what is).")}
REFUSED = {422: OpenApiResponse(description="Refused by a rule (`code` says which).")}


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class AlterationViewSet(
    StaffViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Work orders, soonest due first; `?location=…&status=in_progress` is a workroom's queue."""

    queryset = Alteration.objects.all()
    serializer_class = AlterationSerializer
    pagination_class = DuePagination
    filterset_class = AlterationFilter
    search_fields = ["=number", "=customer__number", "=order_line__order__number"]
    ordering_fields = []
    secret_lookup_actions = ("collect",)
    idempotency_required = ("collect", "cancel")  # they capture or release the fee
    action_permissions = dict.fromkeys(
        ("measure", "assign", "start", "submit", "quality_check", "collect", "renew_pickup", "cancel"),
        "installations.change_alteration",
    )

    def get_queryset(self):
        return selectors.alteration_list()

    def _detail(self, alteration, status_code=status.HTTP_200_OK) -> Response:
        fresh = selectors.alteration_list().get(pk=alteration.pk)
        return Response(AlterationSerializer(fresh).data, status=status_code)

    @extend_schema(request=AlterationRequestSerializer, responses={201: AlterationSerializer, **REFUSED})
    def create(self, request, *args, **kwargs):
        """Take a work order for a customer's purchase: due after the kind's turnaround, the fee on
        an order of its own, held until collection; the customer is told."""
        data = _input(AlterationRequestSerializer, request.data)
        line = OrderLine.objects.select_related("order__customer", "product").filter(pk=data["order_line"]).first()
        if line is None:
            raise serializers.ValidationError({"order_line": ["No such order line."]})
        alteration = services.alteration_request(
            actor=request.user,
            order_line=line,
            kind=data["kind"],
            location=data["location"],
            specification=data["specification"],
            assigned_to=data.get("assigned_to"),
        )
        response = self._detail(alteration, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{alteration.pk}/"
        return response

    @extend_schema(request=AlterationMeasureSerializer, responses={200: AlterationSerializer, **CONFLICTS, **REFUSED})
    @action(detail=True, methods=["post"])
    def measure(self, request, pk=None):
        """Record the measurements (again, until the work starts)."""
        data = _input(AlterationMeasureSerializer, request.data)
        return self._detail(services.alteration_measure(actor=request.user, alteration=self.get_object(), **data))

    @extend_schema(request=AlterationAssignSerializer, responses={200: AlterationSerializer, **CONFLICTS, **REFUSED})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the work to a tailor or technician of the store who has the kind's skills."""
        data = _input(AlterationAssignSerializer, request.data)
        return self._detail(services.alteration_assign(actor=request.user, alteration=self.get_object(), **data))

    @extend_schema(request=AlterationStepSerializer, responses={200: AlterationSerializer, **CONFLICTS, **REFUSED})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Work begins (measured and assigned)."""
        _input(AlterationStepSerializer, request.data)
        return self._detail(services.alteration_start(actor=request.user, alteration=self.get_object()))

    @extend_schema(request=AlterationStepSerializer, responses={200: AlterationSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """The work is done and waits for its quality check."""
        _input(AlterationStepSerializer, request.data)
        return self._detail(services.alteration_submit(actor=request.user, alteration=self.get_object()))

    @extend_schema(
        request=AlterationQualityCheckSerializer, responses={200: AlterationSerializer, **CONFLICTS, **REFUSED}
    )
    @action(detail=True, methods=["post"], url_path="quality-check")
    def quality_check(self, request, pk=None):
        """Someone other than the assignee checks the work: passed, it is ready for pickup (the
        customer gets the code); failed, it goes back to work with the note."""
        data = _input(AlterationQualityCheckSerializer, request.data)
        alteration = services.alteration_quality_check(actor=request.user, alteration=self.get_object(), **data)
        return self._detail(alteration)

    @extend_schema(request=AlterationCollectSerializer, responses={200: AlterationSerializer, **CONFLICTS, **REFUSED})
    @action(detail=True, methods=["post"])
    def collect(self, request, pk=None):
        """Hand the item over against the customer's pickup code (wrong code: 422); the fee is taken."""
        data = _input(AlterationCollectSerializer, request.data)
        return self._detail(services.alteration_collect(actor=request.user, alteration=self.get_object(), **data))

    @extend_schema(request=AlterationStepSerializer, responses={200: AlterationSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"], url_path="renew-pickup")
    def renew_pickup(self, request, pk=None):
        """Its pickup expired uncollected (or was called off): a new one, with a new code."""
        _input(AlterationStepSerializer, request.data)
        return self._detail(services.alteration_pickup_renew(actor=request.user, alteration=self.get_object()))

    @extend_schema(request=AlterationCancelSerializer, responses={200: AlterationSerializer, **CONFLICTS, **REFUSED})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call it off before the work starts; the fee's hold is released."""
        data = _input(AlterationCancelSerializer, request.data)
        return self._detail(services.alteration_cancel(actor=request.user, alteration=self.get_object(), **data))


class AlterationKindViewSet(StaffViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The alterations on offer (managers keep them in the admin)."""

    serializer_class = AlterationKindSerializer
    filterset_fields = ["product", "category"]
    search_fields = ["code", "name"]
    ordering_fields = []

    def get_queryset(self):
        return selectors.alteration_kinds()


class MyAlterationViewSet(
    CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The signed-in customer's alterations, newest first: where each stands, when it is due, what
    it costs; once ready, its pickup (the code is in `me/pickups`)."""

    serializer_class = MyAlterationSerializer
    pagination_class = NewestPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.alteration_list()


urlpatterns = []


def register(router: SimpleRouter) -> None:
    router.register("alterations", AlterationViewSet, basename="alteration")
    router.register("alteration-kinds", AlterationKindViewSet, basename="alteration-kind")
    router.register("me/alterations", MyAlterationViewSet, basename="my-alteration")
