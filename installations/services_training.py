"""Training sessions: enrolment up to the seats, a waiting list in arrival order that promotes the
next customer when someone cancels, and attendance.

Every change to a session's seats runs under the session's row lock, so concurrent enrolments
never fill more seats than there are (tested with real connections on PostgreSQL; SQLite
serialises writers).
"""

from datetime import UTC, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from core.choices import Channel, TouchpointKind
from core.errors import Conflict, RuleViolation
from core.models import AssociateProfile
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.timezones import zone_or_utc
from installations.catalogue import covers
from installations.choices import SEATED_STATUSES, EnrolmentStatus, SessionStatus, TrainingRequestStatus
from installations.models import Absence, Enrolment, TrainingRequest, TrainingSession
from installations.selectors import BOOKING_HORIZON, appointments_clashing


def _locked(session: TrainingSession) -> TrainingSession:
    """The session's row alone (`of=self`: its course and location stay unlocked for everyone else)."""
    return (
        TrainingSession.objects.select_for_update(of=("self",)).select_related("course", "location").get(pk=session.pk)
    )


def _seats_taken(session: TrainingSession) -> int:
    return session.enrolments.filter(status__in=SEATED_STATUSES).count()


def training_enrol(*, actor, session: TrainingSession, customer, order_line=None) -> Enrolment:
    """A seat when one is free, else a place at the end of the waiting list. Once per customer
    and session (a 409 says where they already are)."""
    if order_line is not None and order_line.order.customer_id != customer.pk:
        raise RuleViolation("That purchase is not this customer's.", code="order_line_not_customers")
    if order_line is not None and not covers(session.course, order_line.product):
        raise RuleViolation(
            f"{session.course.name} is not a course for {order_line.product.name}.", code="course_not_for_product"
        )
    with transaction.atomic():
        session = _locked(session)
        if session.status != SessionStatus.SCHEDULED or session.starts_at <= timezone.now():
            raise Conflict("This session is not open for enrolment.", code="session_closed")
        seated = _seats_taken(session) < session.capacity
        try:
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    session=session,
                    customer=customer,
                    order_line=order_line,
                    status=EnrolmentStatus.ENROLLED if seated else EnrolmentStatus.WAITLISTED,
                )
        except IntegrityError as exc:
            current = session.enrolments.exclude(status=EnrolmentStatus.CANCELLED).get(customer=customer)
            raise Conflict(
                f"Already {current.get_status_display().lower()} for this session.", code="already_enrolled"
            ) from exc
        enrolment.session = session
        what = "Enrolled in" if seated else "On the waiting list for"
        _touchpoint(enrolment, actor, f"{what} {session.course.name}, {_local(session)}")
        _tell(enrolment, "training_enrolled" if seated else "training_waitlisted")
    return enrolment


def training_cancel(*, actor, enrolment: Enrolment) -> Enrolment:
    """Give the seat (or the place in line) up before the session starts; a freed seat goes to the
    first in line, who is told, and so is the customer who gave it up."""
    with transaction.atomic():
        session = _locked(enrolment.session)
        if session.status != SessionStatus.SCHEDULED or session.starts_at <= timezone.now():
            raise Conflict("The session has started or is over; attendance is recorded instead.", code="session_closed")
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if enrolment.status not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED):
            raise Conflict(f"A {enrolment.get_status_display().lower()} enrolment is not cancelled.", code="not_open")
        freed = enrolment.status == EnrolmentStatus.ENROLLED
        enrolment.status, enrolment.cancelled_at = EnrolmentStatus.CANCELLED, timezone.now()
        enrolment.save(update_fields=["status", "cancelled_at"])
        enrolment.session = session
        _touchpoint(enrolment, actor, f"Cancelled: {session.course.name}, {_local(session)}")
        _tell(enrolment, "training_cancelled")
        if freed:
            _promote(session)
    return enrolment


def _promote(session: TrainingSession) -> Enrolment | None:
    """Seat the first of the waiting list, if anyone waits and a seat is free (caller holds the
    session's lock)."""
    if _seats_taken(session) >= session.capacity:
        return None
    first = (
        session.enrolments.select_for_update()
        .filter(status=EnrolmentStatus.WAITLISTED)
        .order_by("created_at", "id")
        .first()
    )
    if first is None:
        return None
    first.status, first.promoted_at = EnrolmentStatus.ENROLLED, timezone.now()
    first.save(update_fields=["status", "promoted_at"])
    first.session = session
    _touchpoint(first, None, f"A seat came free: enrolled in {session.course.name}, {_local(session)}")
    _tell(first, "training_promoted")
    return first


def training_attendance(*, actor, session: TrainingSession, attended_customer_ids) -> TrainingSession:
    """After the session: who came (attended) and who did not (absent); the session is held."""
    attended = set(attended_customer_ids)
    with transaction.atomic():
        session = _locked(session)
        if session.status != SessionStatus.SCHEDULED:
            raise Conflict("Attendance is recorded once, for a session that took place.", code="session_not_open")
        if session.starts_at > timezone.now():
            raise Conflict("The session has not started yet.", code="session_not_started")
        seated = list(session.enrolments.filter(status=EnrolmentStatus.ENROLLED).select_related("customer"))
        unknown = attended - {row.customer_id for row in seated}
        if unknown:
            raise RuleViolation(
                f"Not enrolled in this session: customer(s) {sorted(unknown)}.",
                code="not_enrolled",
                customers=sorted(unknown),
            )
        for row in seated:
            row.status = EnrolmentStatus.ATTENDED if row.customer_id in attended else EnrolmentStatus.ABSENT
            row.session = session
        # with history: a plain bulk_update would leave attended/absent out of the enrolments' audit trail
        bulk_update_with_history(seated, Enrolment, ["status"], default_user=actor)
        for row in seated:
            if row.status == EnrolmentStatus.ATTENDED:
                _touchpoint(row, actor, f"Attended {session.course.name}")
        session.status = SessionStatus.HELD
        session.save(update_fields=["status"])
    return session


SESSION_CHANGEABLE = ("course", "starts_at", "ends_at", "place", "location", "trainer", "capacity")
_WHEN_AND_WHERE = {"starts_at", "ends_at", "place", "location"}
LONGEST_SESSION = timedelta(hours=12)  # a sitting, not a course of weeks


def training_session_plan_check(*, starts_at, ends_at, trainer, ignoring: int | None = None) -> None:
    """The rules of a session's time and trainer, for a new session or a change (a `field` names
    the culprit): still to come and within the booking horizon, at most LONGEST_SESSION long, and
    a trainer who works here still and is free then (no job, absence or other session)."""
    now = timezone.now()
    if starts_at <= now:
        raise RuleViolation("A session is planned for a time still to come.", code="starts_in_past", field="starts_at")
    if starts_at > now + BOOKING_HORIZON:
        raise RuleViolation(
            f"Sessions are planned up to {BOOKING_HORIZON.days} days ahead.", code="beyond_horizon", field="starts_at"
        )
    if ends_at <= starts_at:
        raise RuleViolation("A session ends after it starts.", code="ends_before_start", field="ends_at")
    if ends_at.astimezone(UTC) - starts_at.astimezone(UTC) > LONGEST_SESSION:  # real time, across a clock change
        hours = int(LONGEST_SESSION.total_seconds() // 3600)
        raise RuleViolation(f"A session lasts at most {hours} hours.", code="session_too_long", field="ends_at")
    if trainer is None:
        return
    if not trainer.user.is_active:
        raise RuleViolation("That trainer no longer works here.", code="trainer_inactive", field="trainer")
    others = TrainingSession.objects.filter(
        trainer=trainer, status=SessionStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exclude(pk=ignoring)
    absent = Absence.objects.filter(associate=trainer, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if others.exists() or absent.exists() or appointments_clashing(trainer, (starts_at, ends_at), now=now):
        raise RuleViolation(
            f"{trainer} is not free then (a job, an absence or another session).", code="trainer_busy", field="trainer"
        )


def training_session_change_check(session: TrainingSession, changes: dict) -> set[str]:
    """The fields `changes` really changes, or the rule it breaks (a `field` names the culprit):
    for the admin's form to show before saving; the service runs it again under the locks."""
    unknown = set(changes) - set(SESSION_CHANGEABLE)
    if unknown:
        raise RuleViolation(f"A session's {', '.join(sorted(unknown))} is not changed here.", code="not_changeable")
    if session.status != SessionStatus.SCHEDULED or session.starts_at <= timezone.now():
        raise Conflict("Only a session that has not started yet is changed.", code="session_closed")
    changed = {name for name, value in changes.items() if getattr(session, name) != value}
    if "course" in changed and session.enrolments.exists():
        raise RuleViolation(
            "People signed up for this course; call the session off instead.",
            code="course_has_enrolments",
            field="course",
        )
    if changed & {"starts_at", "ends_at", "trainer"}:
        training_session_plan_check(
            starts_at=changes["starts_at"] if "starts_at" in changed else session.starts_at,
            ends_at=changes["ends_at"] if "ends_at" in changed else session.ends_at,
            trainer=changes["trainer"] if "trainer" in changed else session.trainer,
            ignoring=session.pk,
        )
    capacity = changes["capacity"] if "capacity" in changed else session.capacity
    seated = _seats_taken(session)
    if capacity < max(seated, 1):
        raise RuleViolation(
            f"{seated} seats are taken; the session cannot have fewer.",
            code="capacity_below_seats",
            field="capacity",
            seats_taken=seated,
        )
    return changed


def training_session_change(*, actor, session: TrainingSession, changes: dict, reason: str = "") -> TrainingSession:
    """Move, re-staff or resize a session before it starts (or change its course while nobody has
    signed up). Everyone enrolled or waiting is told a new time or place (with the reason); more
    seats seat the waiting list in order; fewer seats than are taken are refused: giving a seat up
    is its enrolment's cancellation. The trainer's row is locked as a booking locks it, so a job
    booked meanwhile and the session never overlap. The session returned tells in `changed` which
    fields really changed (none when it already stood so)."""
    with transaction.atomic():
        session = _locked(session)
        trainer = changes.get("trainer", session.trainer)
        if trainer is not None:
            AssociateProfile.objects.select_for_update(no_key=True).filter(pk=trainer.pk).first()
        changed = training_session_change_check(session, changes)
        session.changed = changed  # for the caller to say what happened; not stored
        if not changed:
            return session
        for name in changed:
            setattr(session, name, changes[name])
        session.save(update_fields=sorted(changed))
        if changed & _WHEN_AND_WHERE:
            _tell_moved(session, actor, reason)
        while _promote(session) is not None:  # seats added: the waiting list moves up, first come first
            pass
    return session


def _tell_moved(session: TrainingSession, actor, reason: str) -> None:
    why = f" ({reason.strip()[:200]})" if reason and reason.strip() else ""
    moved_at = timezone.now().isoformat()  # every real change is told; a save that changes nothing tells no one
    open_ones = session.enrolments.filter(status__in=(EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED))
    for enrolment in open_ones.select_related("customer", "order_line__product", "order_line__order"):
        enrolment.session = session
        summary = f"Moved: {session.course.name}, now {_local(session)} at {session.location.name}{why}"
        _touchpoint(enrolment, actor, summary)
        _tell(enrolment, "training_moved", key=f"{enrolment.pk}:{moved_at}", reason=why)


def training_session_cancel(*, actor, session: TrainingSession, reason: str) -> TrainingSession:
    """Call a session off before it starts (the trainer is ill, too few signed up). Every seat and
    place in line is cancelled and its customer told why; an "I need training" request that was
    arranged with one of them goes back to the associates' queue."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the session is cancelled; the customers are told.", code="reason_required")
    with transaction.atomic():
        session = _locked(session)
        if session.status != SessionStatus.SCHEDULED or session.starts_at <= timezone.now():
            raise Conflict("Only a session that has not started yet is cancelled.", code="session_closed")
        session.status = SessionStatus.CANCELLED
        session.save(update_fields=["status"])
        now = timezone.now()
        open_ones = list(
            session.enrolments.select_for_update(of=("self",))
            .filter(status__in=(EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED))
            .select_related("customer", "order_line__product", "order_line__order")
        )
        for enrolment in open_ones:
            enrolment.status, enrolment.cancelled_at, enrolment.session = EnrolmentStatus.CANCELLED, now, session
        bulk_update_with_history(open_ones, Enrolment, ["status", "cancelled_at"], default_user=actor)
        for enrolment in open_ones:
            _touchpoint(
                enrolment, actor, f"Session cancelled: {session.course.name}, {_local(session)} ({reason[:200]})"
            )
            _tell(enrolment, "training_session_cancelled", reason=reason[:300])
        _reopen_requests(open_ones)
    return session


def _reopen_requests(enrolments: list[Enrolment]) -> None:
    """The arrangement fell through: the customer's request is open again, unless they have asked
    again meanwhile (one open request per purchase)."""
    arranged = list(
        TrainingRequest.objects.select_for_update().filter(
            enrolment__in=enrolments, status=TrainingRequestStatus.ARRANGED
        )
    )
    asked_again = set(
        TrainingRequest.objects.filter(
            order_line__in={request.order_line_id for request in arranged}, status=TrainingRequestStatus.OPEN
        ).values_list("order_line_id", flat=True)
    )
    for request in arranged:
        if request.order_line_id in asked_again:
            continue
        asked_again.add(request.order_line_id)
        request.status = TrainingRequestStatus.OPEN
        request.enrolment = request.handled_by = request.handled_at = None
        request.outcome = f"Reopened: the session it was arranged for was cancelled. Before: {request.outcome}"[:500]
        try:
            with transaction.atomic():
                request.save(update_fields=["status", "enrolment", "handled_by", "handled_at", "outcome"])
        except IntegrityError:  # the customer asked again just now: that request stands
            continue


def _local(session: TrainingSession) -> str:
    zone = zone_or_utc(session.location.time_zone)
    return f"{timezone.localtime(session.starts_at, zone):%A %d %B %Y, %H:%M} ({zone.key})"


def _touchpoint(enrolment: Enrolment, actor, summary: str) -> None:
    staff = actor is not None and getattr(actor, "customer", None) is None
    order_line = enrolment.order_line
    touchpoint_record(
        customer=enrolment.customer,
        kind=TouchpointKind.TRAINING,
        channel=Channel.STORE if staff else Channel.APP,
        summary=summary,
        associate=actor if staff else None,
        location=enrolment.session.location,
        product=order_line.product if order_line else None,
        order_number=order_line.order.number if order_line else "",
        subject=enrolment,
    )


def _tell(enrolment: Enrolment, event: str, *, key: str = "", reason: str = "") -> None:
    session = enrolment.session
    notify(
        customer=enrolment.customer,
        event=event,
        dedupe_key=f"{event}:{key or enrolment.pk}",
        context={
            "course": session.course.name,
            "when": _local(session),
            "until": f"{timezone.localtime(session.ends_at, zone_or_utc(session.location.time_zone)):%H:%M}",
            "where": session.location.name,
            "place": session.get_place_display(),
            "reason": reason,
        },
    )


# --- "I need training" ------------------------------------------------------------------------


def training_request_create(*, actor, order_line, note: str = "") -> TrainingRequest:
    """The customer (or an associate for them) asks for training on a purchase; it waits in the
    associates' queue. Once per purchase while open."""
    product = order_line.product
    if not product.trainable:
        raise RuleViolation(f"There is no training for {product.name}.", code="not_trainable")
    customer = order_line.order.customer
    try:
        with transaction.atomic():
            request = TrainingRequest.objects.create(customer=customer, order_line=order_line, note=(note or "")[:500])
            touchpoint_record(
                customer=customer,
                kind=TouchpointKind.TRAINING,
                channel=Channel.APP if getattr(actor, "customer", None) is not None else Channel.STORE,
                summary=f"Asked for training on {product.name}",
                product=product,
                order_number=order_line.order.number,
                subject=request,
            )
    except IntegrityError as exc:
        raise Conflict("Training for this purchase is already asked for.", code="already_requested") from exc
    return request


def training_request_close(*, actor, request: TrainingRequest, outcome: str, enrolment=None) -> TrainingRequest:
    """The associate followed up: arranged (usually an enrolment they made) or declined, saying how."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise RuleViolation("Say what was arranged or why not.", code="outcome_required")
    with transaction.atomic():
        if enrolment is not None:  # locks in the order a session's cancellation takes them: session, seat, request
            _locked(enrolment.session)
            enrolment = Enrolment.objects.select_for_update(of=("self",)).select_related("session").get(pk=enrolment.pk)
        request = (
            TrainingRequest.objects.select_for_update(of=("self",))
            .select_related("customer", "order_line__product", "order_line__order")
            .get(pk=request.pk)
        )
        if request.status != TrainingRequestStatus.OPEN:
            raise Conflict("This request was followed up already.", code="request_closed")
        if enrolment is not None and enrolment.customer_id != request.customer_id:
            raise RuleViolation("That enrolment is another customer's.", code="enrolment_not_customers")
        if enrolment is not None:
            session = enrolment.session
            started = session.status != SessionStatus.SCHEDULED or session.starts_at <= timezone.now()
            if started or enrolment.status not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED):
                raise RuleViolation("That enrolment is not open any more.", code="enrolment_not_open")
            if not covers(session.course, request.order_line.product):
                raise RuleViolation(
                    f"{session.course.name} is not a course for {request.order_line.product.name}.",
                    code="course_not_for_product",
                )
        request.status = TrainingRequestStatus.ARRANGED if enrolment is not None else TrainingRequestStatus.DECLINED
        request.enrolment, request.outcome = enrolment, outcome[:500]
        request.handled_by, request.handled_at = actor, timezone.now()
        request.save(update_fields=["status", "enrolment", "outcome", "handled_by", "handled_at"])
        product = request.order_line.product
        touchpoint_record(
            customer=request.customer,
            kind=TouchpointKind.TRAINING,
            channel=Channel.STORE,
            summary=f"Training on {product.name} {request.get_status_display().lower()}: {request.outcome}",
            associate=actor,
            product=product,
            order_number=request.order_line.order.number,
            subject=request,
        )
        notify(
            customer=request.customer,
            event="training_request_answered",
            dedupe_key=f"training-request:{request.pk}",
            context={"product": product.name, "arranged": enrolment is not None, "outcome": request.outcome},
        )
    return request
