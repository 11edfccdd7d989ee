"""Training: sessions of a course with their seats and waiting lists, enrolments, and "I need
training" requests.

Staff: `training-sessions` (every session; enrol a customer, record who attended), `enrolments`
(read; cancel a seat or a place in line, which promotes the first in line) and `training-requests`
(the follow-up queue; close one as arranged or declined). A planned session is moved, re-staffed
or resized (`change/`: everyone enrolled or waiting is told a new time or place, more seats seat
the waiting list) or called off (`cancel/`, with the reason they are told). An associate writes on
sessions of their home location only (and moves them nowhere else), managers and admins anywhere;
anyone of staff closes requests. Sessions are created by managers in the Django admin.
Customers: `me/training-sessions` (open sessions and their seats, enrol yourself),
`me/enrolments` (yours; cancel) and `me/training-requests` (ask for training on a purchase).
"""

from django.urls import reverse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import CursorPagination, NewestFirstPagination
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.choices import LocationKind
from core.errors import RuleViolation
from core.models import AssociateProfile, Customer, Location
from core.services.inventory import check_home_location
from installations import selectors_training as selectors
from installations.api.access import HomeLocationMixin
from installations.api.appointments import (
    MAX_ID,
    AppointmentAssociateSerializer,
    AppointmentCustomerSerializer,
    AppointmentLocationSerializer,
    AppointmentProductSerializer,
    EmptySerializer,
    StartsAtField,
)
from installations.choices import EnrolmentStatus, SessionStatus, TrainingPlace, TrainingRequestStatus
from installations.models import Enrolment, TrainingRequest, TrainingSession
from installations.services_training import (
    training_attendance,
    training_cancel,
    training_enrol,
    training_request_close,
    training_request_create,
    training_session_cancel,
    training_session_change,
)
from orders.models import OrderLine

ELSEWHERE = "Associates act on training sessions of their home location only."
NOT_YOURS = "That purchase is not one of yours."
MAX_ATTENDEES = 32767  # a session's capacity is a small positive integer

# --- output -----------------------------------------------------------------------------------


class TrainingCourseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class TrainingSessionSerializer(serializers.Serializer):
    """A session with its seat figures."""

    id = serializers.IntegerField()
    course = TrainingCourseSerializer()
    place = serializers.ChoiceField(choices=TrainingPlace.choices)
    location = AppointmentLocationSerializer(help_text="The store; for online and home sessions, the organiser")
    trainer = AppointmentAssociateSerializer(allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    capacity = serializers.IntegerField()
    seats_taken = serializers.IntegerField()
    seats_left = serializers.SerializerMethodField()
    waiting = serializers.IntegerField(help_text="How many are on the waiting list")

    def get_seats_left(self, obj) -> int:
        return max(obj.capacity - obj.seats_taken, 0)


class SessionEnrolmentSerializer(serializers.Serializer):
    """One enrolment of a session, as staff see it."""

    id = serializers.IntegerField()
    customer = AppointmentCustomerSerializer()
    status = serializers.ChoiceField(choices=EnrolmentStatus.choices)
    waiting_position = serializers.IntegerField(allow_null=True, help_text="1 is next in line; null if not waiting")
    order_line = serializers.IntegerField(source="order_line_id", allow_null=True)
    created_at = serializers.DateTimeField()
    promoted_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)


class TrainingSessionDetailSerializer(TrainingSessionSerializer):
    """A session with every enrolment, in arrival order (the waiting list's order)."""

    enrolments = SessionEnrolmentSerializer(many=True)


class YourEnrolmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=EnrolmentStatus.choices)


class MyTrainingSessionSerializer(TrainingSessionSerializer):
    """A session as a customer sees it: the figures, never who else is enrolled."""

    seats_taken = None
    your_enrolment = serializers.SerializerMethodField(help_text="Your seat or place in line; null if none")

    @extend_schema_field(YourEnrolmentSerializer(allow_null=True))
    def get_your_enrolment(self, obj):
        if obj.my_enrolment_id is None:
            return None
        return {"id": obj.my_enrolment_id, "status": obj.my_enrolment_status}


class EnrolmentSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    course = serializers.CharField(source="course.name")
    place = serializers.ChoiceField(choices=TrainingPlace.choices)
    location = AppointmentLocationSerializer()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)


def _cancellable(enrolment) -> bool:
    session = enrolment.session
    return (
        enrolment.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED)
        and session.status == SessionStatus.SCHEDULED
        and session.starts_at > timezone.now()
    )


class MyEnrolmentSerializer(serializers.Serializer):
    """A customer's seat in a session, or their place in its waiting list."""

    id = serializers.IntegerField()
    session = EnrolmentSessionSerializer()
    status = serializers.ChoiceField(choices=EnrolmentStatus.choices)
    waiting_position = serializers.IntegerField(allow_null=True, help_text="1 is next in line; null if not waiting")
    order_line = serializers.IntegerField(source="order_line_id", allow_null=True)
    created_at = serializers.DateTimeField()
    promoted_at = serializers.DateTimeField(allow_null=True, help_text="When a freed seat came to you")
    cancelled_at = serializers.DateTimeField(allow_null=True)
    allowed_transitions = serializers.SerializerMethodField(help_text="The actions you may take now")

    def get_allowed_transitions(self, obj) -> list[str]:
        return ["cancel"] if _cancellable(obj) else []


class EnrolmentSerializer(MyEnrolmentSerializer):
    """An enrolment as staff see it, with its customer."""

    customer = AppointmentCustomerSerializer()


class MyTrainingRequestSerializer(serializers.Serializer):
    """An "I need training" request on a purchase, and how it was followed up."""

    id = serializers.IntegerField()
    order_line = serializers.IntegerField(source="order_line_id")
    order_number = serializers.CharField(source="order_line.order.number")
    product = AppointmentProductSerializer(source="order_line.product")
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=TrainingRequestStatus.choices)
    enrolment = serializers.IntegerField(source="enrolment_id", allow_null=True, help_text="What was arranged")
    outcome = serializers.CharField()
    created_at = serializers.DateTimeField()
    handled_at = serializers.DateTimeField(allow_null=True)


class TrainingRequestSerializer(MyTrainingRequestSerializer):
    customer = AppointmentCustomerSerializer()
    handled_by = serializers.IntegerField(source="handled_by_id", allow_null=True)


# --- input ------------------------------------------------------------------------------------


def _id_field(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class StaffEnrolSerializer(StrictSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), pk_field=_id_field())
    order_line = _id_field(
        required=False, allow_null=True, help_text="The purchase the training is for; one of the customer's"
    )


class MyEnrolSerializer(StrictSerializer):
    order_line = _id_field(required=False, allow_null=True, help_text="The purchase the training is for; yours")


class AttendanceSerializer(StrictSerializer):
    attended = serializers.ListField(
        child=_id_field(),
        max_length=MAX_ATTENDEES,
        allow_empty=True,
        help_text="Ids of the enrolled customers who came; every other enrolled customer is marked absent",
    )


class SessionChangeSerializer(StrictSerializer):
    """What changes; what is left out stays."""

    starts_at = StartsAtField(required=False, help_text="With its UTC offset; still to come")
    ends_at = StartsAtField(required=False, help_text="With its UTC offset; after the start")
    place = serializers.ChoiceField(choices=TrainingPlace.choices, required=False)
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.filter(kind=LocationKind.STORE, is_active=True),
        pk_field=_id_field(),
        required=False,
        help_text="An open store: where it is held, or which store organises it online or at home",
    )
    trainer = serializers.PrimaryKeyRelatedField(
        queryset=AssociateProfile.objects.select_related("user"),
        pk_field=_id_field(),
        required=False,
        allow_null=True,
        help_text="An associate who works here and is free then; an associate names one of their own store",
    )
    capacity = serializers.IntegerField(
        min_value=1, max_value=MAX_ATTENDEES, required=False, help_text="Not fewer than the seats taken"
    )
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Told with a new time or place"
    )


class SessionCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why; told to everyone enrolled or waiting")


class CloseRequestSerializer(StrictSerializer):
    outcome = serializers.CharField(max_length=500, help_text="What was arranged, or why not; told to the customer")
    enrolment = serializers.PrimaryKeyRelatedField(
        queryset=Enrolment.objects.all(),
        pk_field=_id_field(),
        required=False,
        allow_null=True,
        help_text="The customer's enrolment that was arranged; without it the request is declined",
    )


class RequestTrainingSerializer(StrictSerializer):
    order_line = _id_field(help_text="One of your purchases of a product with training")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def _input(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _own_line(customer, pk):
    """One of the customer's order lines; another customer's is refused exactly like one that does
    not exist, so nothing is learnt about other customers' purchases."""
    line = OrderLine.objects.select_related("order", "product").filter(pk=pk, order__customer=customer).first()
    if line is None:
        raise RuleViolation(NOT_YOURS, code="order_line_not_customers")
    return line


def _created(data, url_name: str, pk: int) -> Response:
    return Response(data, status=status.HTTP_201_CREATED, headers={"Location": reverse(url_name, args=[pk])})


# --- staff ------------------------------------------------------------------------------------


class TrainingSessionFilter(filters.FilterSet):
    starts_after = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = TrainingSession
        fields = ["course", "location", "status", "place", "trainer"]


class SessionPagination(CursorPagination):
    ordering = ("starts_at", "id")


class ArrivalPagination(CursorPagination):
    ordering = ("created_at", "id")


CONFLICTS = {
    409: OpenApiResponse(description="Not allowed in the session's or enrolment's current state."),
    422: OpenApiResponse(description="Refused by a rule."),
}
TIME_FILTERS = ("starts_after", "starts_before")


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class TrainingSessionViewSet(
    HomeLocationMixin, StaffViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Training sessions, soonest first. Without `starts_after` or `starts_before` the list holds the
    sessions not over yet; `?status=scheduled&starts_before=<now>` finds those awaiting attendance.
    Sessions are created by managers in the Django admin, and changed or called off here or there."""

    queryset = TrainingSession.objects.all()
    pagination_class = SessionPagination
    filterset_class = TrainingSessionFilter
    search_fields = []
    ordering_fields = []
    action_permissions = {
        "enroll": "installations.add_enrolment",
        "attendance": "installations.change_enrolment",
        "change": "installations.change_trainingsession",
        "cancel": "installations.change_trainingsession",
    }
    writes = ("enroll", "attendance", "change", "cancel")
    elsewhere = ELSEWHERE

    def get_queryset(self):
        if self.action == "list":
            queryset = selectors.session_list()
            if not any(name in self.request.query_params for name in TIME_FILTERS):
                queryset = queryset.filter(ends_at__gt=timezone.now())
            return queryset
        return self.restrict(selectors.session_detail())

    def get_serializer_class(self):
        return TrainingSessionSerializer if self.action == "list" else TrainingSessionDetailSerializer

    @extend_schema(responses=TrainingSessionDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        """The session with every enrolment: who is seated, who waits and in which place."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=StaffEnrolSerializer,
        responses={201: EnrolmentSerializer, **CONFLICTS},
    )
    @action(detail=True, methods=["post"])
    def enroll(self, request, pk=None):
        """Enrol a customer: a seat if one is free, else the end of the waiting list (`status` says
        which). Once per customer and session (409); `order_line` must be the customer's (422)."""
        session = self.get_object()
        data = _input(StaffEnrolSerializer, request.data)
        line = None
        if data.get("order_line") is not None:
            line = OrderLine.objects.select_related("order", "product").filter(pk=data["order_line"]).first()
            if line is None:
                raise serializers.ValidationError({"order_line": ["No such order line."]})
        enrolment = training_enrol(actor=request.user, session=session, customer=data["customer"], order_line=line)
        body = EnrolmentSerializer(selectors.enrolment_list().get(pk=enrolment.pk)).data
        return _created(body, "enrolment-detail", enrolment.pk)

    @extend_schema(request=SessionChangeSerializer, responses={200: TrainingSessionDetailSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def change(self, request, pk=None):
        """Move, re-staff or resize a session that has not started: a new time or place is told to
        everyone enrolled or waiting (once per change, with `reason`); more seats seat the waiting
        list in order; fewer seats than are taken are refused (422 `capacity_below_seats`)."""
        session = self.get_object()
        changes = dict(_input(SessionChangeSerializer, request.data))
        reason = changes.pop("reason")
        if "location" in changes:  # an associate's sessions stay at their store, with its people
            check_home_location(request.user, changes["location"].pk, ELSEWHERE)
        if changes.get("trainer") is not None:
            check_home_location(request.user, changes["trainer"].home_location_id, ELSEWHERE)
        session = training_session_change(actor=request.user, session=session, changes=changes, reason=reason)
        return Response(TrainingSessionDetailSerializer(selectors.session_detail().get(pk=session.pk)).data)

    @extend_schema(request=SessionCancelSerializer, responses={200: TrainingSessionDetailSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call off a session that has not started: every seat and place in line is cancelled and
        its customer told the reason; "I need training" requests it answered are open again."""
        session = self.get_object()
        reason = _input(SessionCancelSerializer, request.data)["reason"]
        session = training_session_cancel(actor=request.user, session=session, reason=reason)
        return Response(TrainingSessionDetailSerializer(selectors.session_detail().get(pk=session.pk)).data)

    @extend_schema(request=AttendanceSerializer, responses={200: TrainingSessionDetailSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        """Once the session has started: who came. Every other enrolled customer is marked absent
        and the session is held (recorded once: 409 after)."""
        session = self.get_object()
        data = _input(AttendanceSerializer, request.data)
        session = training_attendance(actor=request.user, session=session, attended_customer_ids=data["attended"])
        return Response(TrainingSessionDetailSerializer(selectors.session_detail().get(pk=session.pk)).data)


class EnrolmentFilter(filters.FilterSet):
    class Meta:
        model = Enrolment
        fields = ["session", "customer", "status"]


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class EnrolmentViewSet(
    HomeLocationMixin, StaffViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Enrolments in arrival order (`?session=` is a session's list, `?customer=` a customer's).
    They are made with `training-sessions/{id}/enroll/` and given up with `enrolments/{id}/cancel/`:
    an enrolment has its own id, so its cancellation needs no session in the path."""

    queryset = Enrolment.objects.all()
    serializer_class = EnrolmentSerializer
    pagination_class = ArrivalPagination
    filterset_class = EnrolmentFilter
    search_fields = []
    ordering_fields = []
    action_permissions = {"cancel": "installations.change_enrolment"}
    writes = ("cancel",)
    location_path = "session__location_id"
    elsewhere = ELSEWHERE

    def get_queryset(self):
        return self.restrict(selectors.enrolment_list())

    @extend_schema(request=EmptySerializer, responses={200: EnrolmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Give the seat or the place in line up before the session starts; a freed seat goes to the
        first in line (see the session). The customer is told."""
        enrolment = self.get_object()
        _input(EmptySerializer, request.data)
        enrolment = training_cancel(actor=request.user, enrolment=enrolment)
        return Response(EnrolmentSerializer(selectors.enrolment_list().get(pk=enrolment.pk)).data)


class TrainingRequestFilter(filters.FilterSet):
    class Meta:
        model = TrainingRequest
        fields = ["customer"]


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class TrainingRequestViewSet(
    StaffViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The follow-up queue of "I need training" requests: the open ones, oldest first. A closed
    request is still read by its id."""

    queryset = TrainingRequest.objects.all()
    serializer_class = TrainingRequestSerializer
    pagination_class = ArrivalPagination
    filterset_class = TrainingRequestFilter
    search_fields = []
    ordering_fields = []
    action_permissions = {"close": "installations.change_trainingrequest"}

    def get_queryset(self):
        if self.action == "list":
            return selectors.training_request_queue()
        return selectors.training_request_list()

    @extend_schema(request=CloseRequestSerializer, responses={200: TrainingRequestSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Followed up: arranged (give the customer's `enrolment` you made) or declined (without
        one), saying how in `outcome`; the customer is told. Once (409 after)."""
        training_request = self.get_object()
        data = _input(CloseRequestSerializer, request.data)
        closed = training_request_close(
            actor=request.user, request=training_request, outcome=data["outcome"], enrolment=data.get("enrolment")
        )
        return Response(TrainingRequestSerializer(selectors.training_request_list().get(pk=closed.pk)).data)


# --- the customer's app -----------------------------------------------------------------------


class MyTrainingSessionFilter(filters.FilterSet):
    starts_after = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = TrainingSession
        fields = ["course", "location", "place"]


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class MyTrainingSessionViewSet(
    CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sessions you can enrol in (scheduled, not started), soonest first, with the seats left and
    the length of the waiting list; `your_enrolment` is your own seat or place in line."""

    serializer_class = MyTrainingSessionSerializer
    pagination_class = SessionPagination
    filterset_class = MyTrainingSessionFilter
    search_fields = []
    ordering_fields = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrainingSession.objects.none()
        if self.action == "list":
            return selectors.open_sessions(self.customer)
        return selectors.sessions_for_customer(self.customer)

    @extend_schema(request=MyEnrolSerializer, responses={201: MyEnrolmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def enroll(self, request, pk=None):
        """Enrol yourself: a seat if one is free, else the end of the waiting list (`status` says
        which); you are told either way. `order_line`, if given, must be one of your purchases."""
        session = self.get_object()
        data = _input(MyEnrolSerializer, request.data)
        line = _own_line(self.customer, data["order_line"]) if data.get("order_line") is not None else None
        enrolment = training_enrol(actor=request.user, session=session, customer=self.customer, order_line=line)
        body = MyEnrolmentSerializer(selectors.enrolment_list().get(pk=enrolment.pk)).data
        return _created(body, "my-enrolment-detail", enrolment.pk)


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class MyEnrolmentViewSet(
    CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your enrolments, latest first: seated, waiting (with your place in line) or past."""

    serializer_class = MyEnrolmentSerializer
    pagination_class = NewestFirstPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.enrolment_list()

    @extend_schema(request=EmptySerializer, responses={200: MyEnrolmentSerializer, **CONFLICTS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Give your seat or place in line up before the session starts."""
        enrolment = self.get_object()
        _input(EmptySerializer, request.data)
        enrolment = training_cancel(actor=request.user, enrolment=enrolment)
        return Response(MyEnrolmentSerializer(self.get_queryset().get(pk=enrolment.pk)).data)


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class MyTrainingRequestViewSet(
    CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your "I need training" requests, latest first, and how an associate followed each up."""

    serializer_class = MyTrainingRequestSerializer
    pagination_class = NewestFirstPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.training_request_list()

    @extend_schema(request=RequestTrainingSerializer, responses={201: MyTrainingRequestSerializer, **CONFLICTS})
    def create(self, request):
        """Ask for training on one of your purchases (a product with training); an associate calls
        you back. Once per purchase while it is open (409)."""
        data = _input(RequestTrainingSerializer, request.data)
        created = training_request_create(
            actor=request.user, order_line=_own_line(self.customer, data["order_line"]), note=data["note"]
        )
        body = MyTrainingRequestSerializer(self.get_queryset().get(pk=created.pk)).data
        return _created(body, "my-training-request-detail", created.pk)


urlpatterns = []


def register(router: SimpleRouter) -> None:
    router.register("training-sessions", TrainingSessionViewSet, basename="training-session")
    router.register("enrolments", EnrolmentViewSet, basename="enrolment")
    router.register("training-requests", TrainingRequestViewSet, basename="training-request")
    router.register("me/training-sessions", MyTrainingSessionViewSet, basename="my-training-session")
    router.register("me/enrolments", MyEnrolmentViewSet, basename="my-enrolment")
    router.register("me/training-requests", MyTrainingRequestViewSet, basename="my-training-request")
