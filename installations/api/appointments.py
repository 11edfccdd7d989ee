"""Installation and assembly appointments. Staff (`appointments`) book, move, start, complete and
cancel them, or record that the customer was not there (`no-show`), an associate at their home
location only; customers (`me/appointments`) book their own order lines, move and cancel their
own; both ask `appointments/availability/` for free slots."""

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.models import AssociateProfile, CustomerAddress, Location
from core.services.inventory import check_home_location
from core.workflow import allowed_transitions
from installations import selectors
from installations.api.access import HomeLocationMixin
from installations.choices import AppointmentStatus, ServiceKind, ServicePlace
from installations.models import Appointment, ServiceType
from installations.services import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_no_show,
    appointment_request,
    appointment_reschedule,
    appointment_schedule,
    appointment_start,
)
from orders.api.fulfillment import IsStaffOrCustomer
from orders.api.shipments import OffsetDateTimeField
from orders.models import OrderLine

MAX_ID = 2**63 - 1
MAX_CHECKLIST = 100
ELSEWHERE = "Associates act on appointments of their home location only."
BOOK_ELSEWHERE = "Associates book the associates of their home location only."

# --- output -----------------------------------------------------------------------------------


class AppointmentServiceTypeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ServiceKind.choices)
    place = serializers.ChoiceField(choices=ServicePlace.choices)
    duration_minutes = serializers.IntegerField()


class AppointmentAssociateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, profile) -> str:
        return profile.user.get_full_name() or profile.user.email


class AppointmentCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField(source="full_name")


class AppointmentProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()


class AppointmentLocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField(help_text="Times are shown to people in this zone")


class AppointmentAddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(source="address_line1")
    line2 = serializers.CharField(source="address_line2")
    city = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField()


class ChecklistItemSerializer(StrictSerializer):
    item = serializers.CharField(max_length=200)
    done = serializers.BooleanField()


def _address(appointment) -> dict | None:
    if not appointment.address_line1:
        return None
    return AppointmentAddressSerializer(appointment).data


class MyAppointmentSerializer(serializers.Serializer):
    """An appointment as its customer sees it: what, who, where and when."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=AppointmentStatus.choices)
    service_type = AppointmentServiceTypeSerializer()
    associate = AppointmentAssociateSerializer(allow_null=True, help_text="Null while requested")
    order_line = serializers.IntegerField(source="order_line_id")
    order_number = serializers.CharField(source="order_line.order.number")
    product = AppointmentProductSerializer(source="order_line.product")
    location = AppointmentLocationSerializer(help_text="The store, or where the associate sets out from")
    address = serializers.SerializerMethodField(help_text="Where the work is done; null in store")
    starts_at = serializers.DateTimeField(allow_null=True, help_text="Null while requested")
    ends_at = serializers.DateTimeField(allow_null=True)
    preferred = serializers.CharField(help_text="When suits the customer, said with a request")
    completed_at = serializers.DateTimeField(allow_null=True)
    allowed_transitions = serializers.SerializerMethodField(help_text="The actions you may take now")

    @extend_schema_field(AppointmentAddressSerializer(allow_null=True))
    def get_address(self, obj):
        return _address(obj)

    def get_allowed_transitions(self, obj) -> list[str]:
        if obj.status == AppointmentStatus.REQUESTED:
            return ["cancel"]
        return ["reschedule", "cancel"] if obj.status == AppointmentStatus.SCHEDULED else []


class AppointmentSerializer(MyAppointmentSerializer):
    """An appointment as staff see it, with the customer and the record of the work."""

    customer = AppointmentCustomerSerializer()
    checklist = ChecklistItemSerializer(many=True)
    notes = serializers.CharField()
    signed_off_by = serializers.CharField()
    booked_by = serializers.IntegerField(source="booked_by_id", allow_null=True)
    created_at = serializers.DateTimeField()
    allowed_transitions = serializers.SerializerMethodField(help_text="The actions its state allows now")

    def get_allowed_transitions(self, obj) -> list[str]:
        allowed = allowed_transitions(obj)
        if (
            obj.starts_at is None or obj.starts_at > timezone.now()
        ):  # a no-show is recorded once the start time has passed
            allowed = [name for name in allowed if name != "mark_no_show"]
        return ["reschedule", *allowed] if obj.status == AppointmentStatus.SCHEDULED else allowed


class SlotAssociateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SlotSerializer(serializers.Serializer):
    associate = SlotAssociateSerializer()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


# --- input ------------------------------------------------------------------------------------


def _id(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs
    )


class StartsAtField(OffsetDateTimeField):
    """A start time with its UTC offset, and nothing after it (Python's ISO parser would stop
    quietly at a NUL character)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and "\x00" in value:
            self.fail("invalid", format="ISO 8601 with a UTC offset")
        return super().to_internal_value(value)


class AppointmentBookSerializer(StrictSerializer):
    order_line = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The purchased product's line")
    service_type = _id(ServiceType.objects.all())
    associate = _id(
        AssociateProfile.objects.select_related("home_location", "user"),
        help_text="One of the associates `availability` offered",
    )
    starts_at = StartsAtField(help_text="A free slot's start, with its UTC offset")
    address = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="One of the customer's addresses; required for a home visit",
    )


class AppointmentRequestSerializer(StrictSerializer):
    order_line = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The purchased product's line")
    service_type = _id(ServiceType.objects.all())
    location = _id(Location.objects.all(), help_text="The store that sends someone (or where the work is done)")
    address = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="One of the customer's addresses; required for a home visit",
    )
    preferred = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="When suits the customer"
    )


class ScheduleSerializer(StrictSerializer):
    associate = _id(
        AssociateProfile.objects.select_related("home_location", "user"),
        help_text="An associate of the appointment's store that `availability` offered",
    )
    starts_at = StartsAtField(help_text="A free slot's start, with its UTC offset")


class RescheduleSerializer(StrictSerializer):
    starts_at = StartsAtField(help_text="Another free slot of the same associate, with its UTC offset")
    reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Why; told to the customer"
    )


class CompleteSerializer(StrictSerializer):
    checklist = serializers.ListField(child=ChecklistItemSerializer(), max_length=MAX_CHECKLIST, default=list)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    signed_off_by = serializers.CharField(max_length=120, help_text="Who signed for the work")


class CancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Told to the customer")


class NoShowSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=300, help_text="What happened (rang, called, waited); kept on the record, not sent to the customer"
    )


class EmptySerializer(StrictSerializer):
    pass


class AvailabilityQuerySerializer(StrictSerializer):
    service_type = _id(ServiceType.objects.filter(is_active=True))
    location = _id(Location.objects.all())
    date_from = serializers.DateField(help_text="First day, in the location's calendar")
    date_to = serializers.DateField(help_text=f"Last day (included); at most {selectors.MAX_DAYS} days in all")

    def validate(self, attrs):
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": "The range ends on or after its first day."})
        if (attrs["date_to"] - attrs["date_from"]).days >= selectors.MAX_DAYS:
            raise serializers.ValidationError({"date_to": f"At most {selectors.MAX_DAYS} days at a time."})
        return attrs


def _input(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _line_and_address(data, order_lines):
    """The order line and the address of validated input, which must be the caller's to use."""
    line = order_lines.select_related("order", "product").filter(pk=data["order_line"]).first()
    if line is None:
        raise serializers.ValidationError({"order_line": ["No such order line."]})
    address = None
    if data.get("address") is not None:
        address = CustomerAddress.objects.filter(pk=data["address"], customer_id=line.order.customer_id).first()
        if address is None:
            raise serializers.ValidationError({"address": ["Not an address of the order's customer."]})
    return line, address


def _request(request, data, order_lines):
    line, address = _line_and_address(data, order_lines)
    return appointment_request(
        actor=request.user,
        order_line=line,
        service_type=data["service_type"],
        location=data["location"],
        address=address,
        preferred=data["preferred"],
    )


def _book(request, data, order_lines):
    """Book from validated input; the order line and the address must be the caller's to use."""
    line, address = _line_and_address(data, order_lines)
    return appointment_book(
        actor=request.user,
        order_line=line,
        service_type=data["service_type"],
        associate=data["associate"],
        starts_at=data["starts_at"],
        address=address,
    )


# --- views ------------------------------------------------------------------------------------


class AppointmentFilter(filters.FilterSet):
    starts_after = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Appointment
        fields = ["associate", "location", "status", "customer", "service_type"]


class AppointmentPagination(CursorPagination):
    ordering = ("starts_at", "id")


class MyAppointmentPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class RequestPagination(CursorPagination):
    ordering = ("created_at", "id")


CONFLICTS = {
    409: OpenApiResponse(description="Not free any more (`next_slots`), or not allowed now (`allowed`)."),
}


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class AppointmentViewSet(
    HomeLocationMixin,
    StaffViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Appointments, soonest first; `?location=…&starts_after=…` is a store's day plan. Requests
    (no time yet) are listed by `requests/`, oldest first, and given a time by `schedule/`."""

    queryset = Appointment.objects.all()
    serializer_class = AppointmentSerializer
    pagination_class = AppointmentPagination
    filterset_class = AppointmentFilter
    search_fields = ["=number", "=customer__number", "=order_line__order__number"]
    ordering_fields = []
    action_permissions = {
        "schedule": "installations.change_appointment",
        "reschedule": "installations.change_appointment",
        "start": "installations.change_appointment",
        "complete": "installations.change_appointment",
        "cancel": "installations.change_appointment",
        "mark_no_show": "installations.change_appointment",
    }
    writes = ("schedule", "reschedule", "start", "complete", "cancel", "mark_no_show")
    elsewhere = ELSEWHERE

    def get_permissions(self):
        if self.action == "availability":
            return [IsStaffOrCustomer()]
        return super().get_permissions()

    def get_queryset(self):
        appointments = selectors.appointment_list()
        if self.action == "list":  # in time order: requests have no time yet (see `requests`)
            appointments = appointments.exclude(starts_at__isnull=True)
        elif self.action == "requests":
            appointments = appointments.filter(status=AppointmentStatus.REQUESTED)
        return self.restrict(appointments)

    def _detail(self, appointment, status_code=status.HTTP_200_OK) -> Response:
        fresh = selectors.appointment_list().get(pk=appointment.pk)
        return Response(AppointmentSerializer(fresh).data, status=status_code)

    @extend_schema(
        request=AppointmentBookSerializer,
        responses={201: AppointmentSerializer, **CONFLICTS, 422: OpenApiResponse(description="Refused by a rule.")},
    )
    def create(self, request, *args, **kwargs):
        """Book a free slot for a customer's order line (a home visit at one of their addresses);
        a slot taken meanwhile is a 409 offering the next free ones."""
        data = _input(AppointmentBookSerializer, request.data)
        check_home_location(request.user, data["associate"].home_location_id, BOOK_ELSEWHERE)
        appointment = _book(request, data, OrderLine.objects.all())
        response = self._detail(appointment, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{appointment.pk}/"
        return response

    @extend_schema(
        request=AppointmentRequestSerializer,
        responses={201: AppointmentSerializer, 422: OpenApiResponse(description="Refused by a rule.")},
    )
    @action(detail=False, methods=["post"], url_path="request")
    def request_appointment(self, request):
        """Ask for the service for a customer without taking a slot (they said when suits them);
        it waits in `requests/` for an associate of the store to schedule it."""
        appointment = _request(request, _input(AppointmentRequestSerializer, request.data), OrderLine.objects.all())
        response = self._detail(appointment, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path.removesuffix('request/')}{appointment.pk}/"
        return response

    @extend_schema(responses=AppointmentSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=RequestPagination)
    def requests(self, request):
        """Requests waiting for a time, oldest first (`?location=` for one store's queue)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AppointmentSerializer(page, many=True).data)

    @extend_schema(request=ScheduleSerializer, responses={200: AppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Give a request its associate and one of their free slots (a slot taken meanwhile is a 409
        offering the next free ones); the customer is told the time."""
        data = _input(ScheduleSerializer, request.data)
        return self._detail(appointment_schedule(actor=request.user, appointment=self.get_object(), **data))

    @extend_schema(parameters=[AvailabilityQuerySerializer], responses=SlotSerializer(many=True))
    @action(detail=False, methods=["get"])
    def availability(self, request):
        """Free slots of the associates of a location who can do the service, earliest first
        (staff and customers of the app; at most a month at a time)."""
        return _availability(request)

    @extend_schema(request=RescheduleSerializer, responses={200: AppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move it to another free slot of the same associate (with notice); the customer is told."""
        data = _input(RescheduleSerializer, request.data)
        return self._detail(appointment_reschedule(actor=request.user, appointment=self.get_object(), **data))

    @extend_schema(request=EmptySerializer, responses={200: AppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """The associate has arrived and begins the work."""
        _input(EmptySerializer, request.data)
        return self._detail(appointment_start(actor=request.user, appointment=self.get_object()))

    @extend_schema(request=CompleteSerializer, responses={200: AppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """The work is done: the checklist, notes and who signed it off."""
        data = _input(CompleteSerializer, request.data)
        return self._detail(appointment_complete(actor=request.user, appointment=self.get_object(), **data))

    @extend_schema(request=CancelSerializer, responses={200: AppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call it off (with notice); the customer is told the reason."""
        data = _input(CancelSerializer, request.data)
        return self._detail(appointment_cancel(actor=request.user, appointment=self.get_object(), **data))

    @extend_schema(request=NoShowSerializer, responses={200: AppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"], url_path="no-show")
    def mark_no_show(self, request, pk=None):
        """The customer was not there (not at home, or not at the store), once the start time has
        passed (409 `too_early` before); the customer is told how to book again."""
        data = _input(NoShowSerializer, request.data)
        return self._detail(appointment_no_show(actor=request.user, appointment=self.get_object(), **data))


def _availability(request) -> Response:
    query = _input(AvailabilityQuerySerializer, request.query_params)
    slots = selectors.free_slots(**query)
    names = selectors.associate_names(slot.associate_id for slot in slots) if slots else {}
    rows = [
        {
            "associate": {"id": slot.associate_id, "name": names.get(slot.associate_id, "")},
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
        }
        for slot in slots
    ]
    return Response(SlotSerializer(rows, many=True).data)


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class MyAppointmentViewSet(
    CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The signed-in customer's appointments, latest first: book one for a purchase, move or
    cancel it."""

    serializer_class = MyAppointmentSerializer
    pagination_class = MyAppointmentPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.appointment_list()

    def _detail(self, appointment, status_code=status.HTTP_200_OK) -> Response:
        return Response(MyAppointmentSerializer(self.get_queryset().get(pk=appointment.pk)).data, status=status_code)

    @extend_schema(
        request=AppointmentBookSerializer,
        responses={201: MyAppointmentSerializer, **CONFLICTS, 422: OpenApiResponse(description="Refused by a rule.")},
    )
    def create(self, request):
        """Book a free slot (from `appointments/availability/`) for a line of your own order."""
        data = _input(AppointmentBookSerializer, request.data)
        appointment = _book(request, data, OrderLine.objects.filter(order__customer=self.customer))
        response = self._detail(appointment, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{appointment.pk}/"
        return response

    @extend_schema(
        request=AppointmentRequestSerializer,
        responses={201: MyAppointmentSerializer, 422: OpenApiResponse(description="Refused by a rule.")},
    )
    @action(detail=False, methods=["post"], url_path="request")
    def request_appointment(self, request):
        """Ask for the service on one of your purchases without picking a time; say when suits you
        and the store schedules it (you are told the time)."""
        data = _input(AppointmentRequestSerializer, request.data)
        appointment = _request(request, data, OrderLine.objects.filter(order__customer=self.customer))
        response = self._detail(appointment, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path.removesuffix('request/')}{appointment.pk}/"
        return response

    @extend_schema(request=RescheduleSerializer, responses={200: MyAppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move your appointment to another free slot of the same associate, up to a day ahead."""
        data = _input(RescheduleSerializer, request.data)
        return self._detail(appointment_reschedule(actor=request.user, appointment=self.get_object(), **data))

    @extend_schema(request=CancelSerializer, responses={200: MyAppointmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call your appointment off, up to a day ahead."""
        data = _input(CancelSerializer, request.data)
        return self._detail(appointment_cancel(actor=request.user, appointment=self.get_object(), **data))


urlpatterns = []


def register(router: SimpleRouter) -> None:
    router.register("appointments", AppointmentViewSet, basename="appointment")
    router.register("me/appointments", MyAppointmentViewSet, basename="my-appointment")
