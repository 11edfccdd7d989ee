"""Associate pages for installations: a week's calendar of a location or an associate, booking
from it with the free slots, the associate's jobs of the day, and an appointment's page with its
history and actions (move, cancel, start, complete). Writes go through the same services as the
API, with its rules: any member of staff reads every appointment; an associate books and changes
those of their home location only, managers and admins anywhere."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import Conflict, DomainError
from core.models import AssociateProfile, Location
from core.services.inventory import check_home_location
from core.views import staff_required
from installations import selectors_calendar as calendar_selectors
from installations.api.appointments import BOOK_ELSEWHERE, ELSEWHERE
from installations.choices import AppointmentStatus, ServicePlace
from installations.forms import (
    BookForm,
    BookSearchForm,
    CalendarForm,
    CancelForm,
    CompleteForm,
    RescheduleForm,
    ScheduleForm,
    SlotRangeForm,
    form_errors,
)
from installations.models import Appointment
from installations.page_access import acts_at, home_location, location_zone, require
from installations.selectors import Slot, free_slots
from installations.services import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_reschedule,
    appointment_schedule,
    appointment_start,
)


def _local_time(moment, zone) -> str:
    local = timezone.localtime(moment, zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({zone.key})"


# --- the week calendar ------------------------------------------------------------------------


@staff_required
def week_calendar(request):
    """`?location=` (default: your home location) or `?associate=`, and `?week=` (any day of it)."""
    require(request.user, "installations.view_appointment")
    form = CalendarForm(request.GET)
    if not form.is_valid():
        messages.error(request, f"Showing the default calendar instead. {form_errors(form)}")
    data = form.cleaned_data
    associate, location = data.get("associate"), data.get("location")
    if associate is None and location is None:
        location = home_location(request.user)
    place = associate.home_location if associate is not None else location
    context = {"associate": associate, "location": location, "locations": Location.objects.order_by("name")}
    if place is None:
        messages.info(request, "Choose a location to see its calendar.")
        return render(request, "installations/calendar.html", context)
    zone = location_zone(place)
    today = timezone.localdate(timezone=zone)
    monday = calendar_selectors.week_start(data.get("week") or today)
    days = calendar_selectors.week_calendar(week=monday, zone=zone, location=location, associate=associate)
    owner = {"associate": associate.pk} if associate is not None else {"location": location.pk}
    context |= {
        "days": days,
        "tz": zone,
        "today": today,
        "place": place,
        "owner_query": urlencode(owner),
        "previous_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "associates": AssociateProfile.objects.filter(home_location=place, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "pk"),
        "may_book": request.user.has_perm("installations.add_appointment") and acts_at(request.user, place.pk),
        "shows_training": request.user.has_perm("installations.view_trainingsession"),
        "shows_alterations": request.user.has_perm("installations.view_alteration"),
    }
    return render(request, "installations/calendar.html", context)


# --- today's jobs -----------------------------------------------------------------------------


@staff_required
def jobs_today(request):
    require(request.user, "installations.view_appointment")
    profile = getattr(request.user, "associate", None)
    if profile is None:
        messages.info(request, "You have no associate profile, so no jobs of your own.")
        return render(request, "installations/today.html", {"jobs": None})
    zone = location_zone(profile.home_location)
    jobs = calendar_selectors.jobs_today(profile, zone)
    may_change = request.user.has_perm("installations.change_appointment")
    rows = [
        (appointment, _action_forms(request.user, appointment) if may_change else None)
        for appointment in jobs.appointments
    ]
    return render(
        request,
        "installations/today.html",
        {"jobs": jobs, "rows": rows, "tz": zone, "location": profile.home_location, "back": "today"},
    )


# --- an appointment ---------------------------------------------------------------------------


def _action_forms(user, appointment) -> dict | None:
    """The forms of the actions the appointment's state allows, or None where the user may not act."""
    if not acts_at(user, appointment.location_id):
        return None
    if appointment.status == AppointmentStatus.REQUESTED:
        return {"cancel": CancelForm(prefix=f"cancel-{appointment.pk}")}
    if appointment.status == AppointmentStatus.SCHEDULED:
        return {"start": True, "cancel": CancelForm(prefix=f"cancel-{appointment.pk}")}
    if appointment.status == AppointmentStatus.IN_PROGRESS:
        return {"complete": CompleteForm(prefix=f"complete-{appointment.pk}")}
    return {}


@staff_required
def appointment_page(request, number):
    require(request.user, "installations.view_appointment")
    appointment = get_object_or_404(calendar_selectors.appointment_detail(), number=number)
    zone = location_zone(appointment.location)
    actions = (
        _action_forms(request.user, appointment) if request.user.has_perm("installations.change_appointment") else None
    )
    context = {
        "appointment": appointment,
        "tz": zone,
        "history": calendar_selectors.appointment_history(appointment),
        "actions": actions,
        "back": "appointment",
    }
    if actions and appointment.status == AppointmentStatus.SCHEDULED:
        context |= _reschedule_choices(request, appointment, zone)
    if actions is not None and appointment.status == AppointmentStatus.REQUESTED:
        context |= _reschedule_choices(request, appointment, zone, anyone=True)
    return render(request, "installations/appointment.html", context)


def _reschedule_choices(request, appointment, zone, anyone: bool = False) -> dict:
    """The free slots of the same associate in the days asked for (two weeks from today by default);
    `anyone`: of every associate of the store who can do it (scheduling a request)."""
    range_form = SlotRangeForm(request.GET)
    since, until = range_form.days(timezone.localdate(timezone=zone))
    try:
        slots = free_slots(
            service_type=appointment.service_type,
            location=appointment.location,
            date_from=since,
            date_to=until,
            associate_ids=None if anyone else [appointment.associate_id],
            ignoring=appointment.pk,
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        slots = []
    slots = [slot for slot in slots if slot.starts_at != appointment.starts_at]
    return {
        "range_form": SlotRangeForm(initial={"since": since, "until": until}),
        "reschedule_days": calendar_selectors.slots_by_day(slots, zone),
        "reschedule_form": RescheduleForm(),
        "scheduling": anyone,
    }


def _changeable(request, number):
    """The appointment to change, or None after saying why it may not be changed here."""
    require(request.user, "installations.change_appointment")
    appointment = get_object_or_404(Appointment.objects.select_related("location", "service_type"), number=number)
    if not acts_at(request.user, appointment.location_id):
        messages.error(request, ELSEWHERE)
        return appointment, False
    return appointment, True


def _back(request, appointment):
    if request.POST.get("back") == "today":
        return redirect("installations-pages:today")
    return redirect("installations-pages:appointment", number=appointment.number)


def _done(request, appointment, work, success: str):
    try:
        work()
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "detail", str(exc)))
    else:
        messages.success(request, success)
    return _back(request, appointment)


@require_POST
@staff_required
def appointment_start_view(request, number):
    appointment, allowed = _changeable(request, number)
    if not allowed:
        return _back(request, appointment)
    return _done(
        request,
        appointment,
        lambda: appointment_start(actor=request.user, appointment=appointment),
        f"{appointment.number} started.",
    )


@require_POST
@staff_required
def appointment_complete_view(request, number):
    appointment, allowed = _changeable(request, number)
    if not allowed:
        return _back(request, appointment)
    form = CompleteForm(request.POST, prefix=f"complete-{appointment.pk}")
    if not form.is_valid():
        messages.error(request, f"Nothing was recorded. {form_errors(form)}")
        return _back(request, appointment)
    data = form.cleaned_data
    return _done(
        request,
        appointment,
        lambda: appointment_complete(
            actor=request.user,
            appointment=appointment,
            checklist=form.checklist(),
            notes=data["notes"],
            signed_off_by=data["signed_off_by"],
        ),
        f"{appointment.number} completed, signed off by {data['signed_off_by']}.",
    )


@require_POST
@staff_required
def appointment_cancel_view(request, number):
    appointment, allowed = _changeable(request, number)
    if not allowed:
        return _back(request, appointment)
    form = CancelForm(request.POST, prefix=f"cancel-{appointment.pk}")
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {form_errors(form)}")
        return _back(request, appointment)
    return _done(
        request,
        appointment,
        lambda: appointment_cancel(actor=request.user, appointment=appointment, reason=form.cleaned_data["reason"]),
        f"{appointment.number} cancelled; the customer has been told why.",
    )


@require_POST
@staff_required
def appointment_reschedule_view(request, number):
    appointment, allowed = _changeable(request, number)
    if not allowed:
        return _back(request, appointment)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {form_errors(form)}")
        return _back(request, appointment)
    starts_at = form.cleaned_data["starts_at"]
    return _done(
        request,
        appointment,
        lambda: appointment_reschedule(actor=request.user, appointment=appointment, starts_at=starts_at),
        f"{appointment.number} moved to {_local_time(starts_at, location_zone(appointment.location))}; "
        "the customer has been told.",
    )


@staff_required
@require_POST
def appointment_schedule_view(request, number):
    """Give a request one of the free slots offered on its page (`associate_id|starts_at`)."""
    appointment, allowed = _changeable(request, number)
    if not allowed:
        return _back(request, appointment)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {form_errors(form)}")
        return _back(request, appointment)
    associate, starts_at = form.cleaned_data["associate"], form.cleaned_data["starts_at"]
    return _done(
        request,
        appointment,
        lambda: appointment_schedule(
            actor=request.user, appointment=appointment, associate=associate, starts_at=starts_at
        ),
        f"{appointment.number} booked for {_local_time(starts_at, location_zone(appointment.location))}; "
        "the customer has been told.",
    )


# --- booking ----------------------------------------------------------------------------------


@staff_required
def book(request):
    """Find the order, pick the line and service and the days, then one of the free slots."""
    require(request.user, "installations.add_appointment")
    if request.method == "POST":
        return _book_submit(request)
    return _book_page(request, request.GET)


def _book_page(request, params, *, offered=None, status=200):
    """The Book page for the query `params`; `offered` replaces the free slots (the next ones
    after a slot was taken)."""
    search = BookSearchForm(params or {})
    if not search.is_valid():
        messages.error(request, form_errors(search))
    data = search.cleaned_data
    location = data.get("location") or home_location(request.user)
    context = {"search": search, "location": location, "locations": Location.objects.order_by("name")}
    if location is None:
        messages.info(request, "Choose the location to book at.")
        return render(request, "installations/book.html", context, status=status)
    if not acts_at(request.user, location.pk):
        messages.error(request, BOOK_ELSEWHERE)
        return render(request, "installations/book.html", context, status=status)
    zone = location_zone(location)
    since, until = search.days(timezone.localdate(timezone=zone))
    context |= {"tz": zone, "date_from": since, "date_to": until, "may_book": True}
    number = data.get("order")
    if not number:
        return render(request, "installations/book.html", context, status=status)
    order = calendar_selectors.order_for_booking(number)
    if order is None:
        messages.error(request, f"No order {number}.")
        return render(request, "installations/book.html", context, status=status)
    offers = calendar_selectors.booking_offers(order)
    context |= {"order": order, "offers": offers}
    if not offers:
        messages.info(request, f"Nothing on order {order.number} can be booked: no service covers its products.")
        return render(request, "installations/book.html", context, status=status)
    chosen = _chosen_offer(search, offers)
    if chosen is None:
        if search.offer_ids() is not None:
            messages.error(request, "Choose one of the products and services listed.")
        return render(request, "installations/book.html", context, status=status)
    if offered is None:
        try:
            offered = free_slots(service_type=chosen.service_type, location=location, date_from=since, date_to=until)
        except DomainError as exc:
            messages.error(request, exc.detail)
            offered = []
    home = chosen.service_type.place == ServicePlace.HOME
    context |= {
        "chosen": chosen,
        "slot_days": calendar_selectors.slots_by_day(offered, zone),
        "home_visit": home,
        "addresses": list(order.customer.addresses.all()) if home else [],
    }
    return render(request, "installations/book.html", context, status=status)


def _chosen_offer(search, offers):
    ids = search.offer_ids()
    if ids is None:
        return None
    return next((offer for offer in offers if (offer.line.pk, offer.service_type.pk) == ids), None)


def _book_submit(request):
    form = BookForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was booked. {form_errors(form)}")
        return _book_page(request, request.POST)
    data = form.cleaned_data
    location = data.get("location") or home_location(request.user)
    order = calendar_selectors.order_for_booking(data["order"]) if data.get("order") else None
    chosen = _chosen_offer(form, calendar_selectors.booking_offers(order)) if order is not None else None
    if location is None or chosen is None:
        messages.error(request, "Nothing was booked. Find the order and choose the product and service again.")
        return _book_page(request, request.POST)
    slot = data["slot"]
    associate = AssociateProfile.objects.select_related("home_location", "user").filter(pk=slot.associate_id).first()
    if associate is None or associate.home_location_id != location.pk:
        messages.error(request, "Nothing was booked. Choose one of the free times offered.")
        return _book_page(request, request.POST)
    address = None
    if data.get("address") is not None:
        address = next((row for row in order.customer.addresses.all() if row.pk == data["address"]), None)
        if address is None:
            messages.error(request, "Nothing was booked. Choose one of the customer's addresses.")
            return _book_page(request, request.POST)
    try:
        check_home_location(request.user, associate.home_location_id, BOOK_ELSEWHERE)
        appointment = appointment_book(
            actor=request.user,
            order_line=chosen.line,
            service_type=chosen.service_type,
            associate=associate,
            starts_at=slot.starts_at,
            address=address,
        )
    except Conflict as exc:
        messages.error(request, exc.detail)
        next_slots = exc.extra.get("next_slots")
        if next_slots is None:
            return _book_page(request, request.POST, status=exc.status)
        return _book_page(request, request.POST, offered=_slots(next_slots), status=exc.status)
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "detail", str(exc)))
        return _book_page(request, request.POST, status=getattr(exc, "status", 403))
    messages.success(
        request,
        f"{chosen.service_type.name} booked for {_local_time(appointment.starts_at, location_zone(location))}: "
        f"{appointment.number}; the customer has been told.",
    )
    return redirect("installations-pages:appointment", number=appointment.number)


def _slots(rows) -> list[Slot]:
    return [
        Slot(row["associate"], datetime.fromisoformat(row["starts_at"]), datetime.fromisoformat(row["ends_at"]))
        for row in rows
    ]
