"""Reads for training: sessions with their seat figures, enrolments with their place in the
waiting list, and the associates' queue of "I need training" requests. Every figure is a
subquery of the row's own query, so a list runs the same queries whatever its length."""

from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from installations.choices import SEATED_STATUSES, EnrolmentStatus, SessionStatus, TrainingRequestStatus
from installations.models import Enrolment, TrainingRequest, TrainingSession


def _count(queryset):
    """How many rows of `queryset` (correlated to the outer row), 0 when none."""
    counted = queryset.order_by().values("session").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _waiting_position():
    """1 for the first in line, 2 for the next…; null for anyone not waiting."""
    ahead = Enrolment.objects.filter(session=OuterRef("session"), status=EnrolmentStatus.WAITLISTED).filter(
        Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    )
    return Case(
        When(status=EnrolmentStatus.WAITLISTED, then=_count(ahead) + 1),
        default=Value(None),
        output_field=IntegerField(),
    )


def session_list():
    """Sessions with course, location and trainer, `seats_taken` and `waiting` (the line's length)."""
    mine = Enrolment.objects.filter(session=OuterRef("pk"))
    return TrainingSession.objects.select_related("course", "location", "trainer__user").annotate(
        seats_taken=_count(mine.filter(status__in=SEATED_STATUSES)),
        waiting=_count(mine.filter(status=EnrolmentStatus.WAITLISTED)),
    )


def session_detail():
    """`session_list()` with every enrolment (its customer and place in line) in arrival order."""
    enrolments = Enrolment.objects.select_related("customer").annotate(waiting_position=_waiting_position())
    return session_list().prefetch_related(Prefetch("enrolments", queryset=enrolments.order_by("created_at", "id")))


def sessions_for_customer(customer):
    """Sessions as one customer reads them: no one else's enrolments, only the figures, and
    `my_enrolment_id`/`my_enrolment_status` for their own seat or place in line, if any."""
    own = (
        Enrolment.objects.filter(session=OuterRef("pk"), customer=customer)
        .exclude(status=EnrolmentStatus.CANCELLED)
        .order_by("-created_at", "-id")
    )
    return session_list().annotate(
        my_enrolment_id=Subquery(own.values("pk")[:1]),
        my_enrolment_status=Subquery(own.values("status")[:1]),
    )


def open_sessions(customer):
    """What a customer can enrol in now: scheduled sessions that have not started."""
    return sessions_for_customer(customer).filter(status=SessionStatus.SCHEDULED, starts_at__gt=timezone.now())


def enrolment_list():
    """Enrolments with their session (course, location), customer and place in the waiting list."""
    return Enrolment.objects.select_related("customer", "session__course", "session__location").annotate(
        waiting_position=_waiting_position()
    )


def training_request_list():
    """Requests with what a row shows: the customer, the purchase and its order."""
    return TrainingRequest.objects.select_related("customer", "order_line__product", "order_line__order")


def training_request_queue():
    """Open requests, oldest first, with what a queue row shows (along training_request_queue)."""
    return training_request_list().filter(status=TrainingRequestStatus.OPEN).order_by("created_at", "id")
