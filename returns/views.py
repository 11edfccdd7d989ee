"""Associate pages for returns: the returns of the associate's store (expected, to inspect, to
resolve, and waiting for a decision) with a look-up by number, and a return's page with the step
it is at: receive the parcel, inspect and dispose of each line, give the customer what they chose,
or decide. Writes go through the same services as the API."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.models import Location
from core.timezones import zone_or_utc
from core.views import staff_required
from returns import selectors
from returns.choices import Disposition, ItemGrade, ReturnReason, ReturnStatus
from returns.services import returns as services

SHOWN = 50


def _require(user, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied("Your role does not allow this.")


def _home_location(user):
    profile = getattr(user, "associate", None)
    return profile.home_location if profile else None


@staff_required
def return_list(request):
    _require(request.user, "returns.view_returnrequest")
    term = request.GET.get("q", "").strip()[:20].upper()
    if term:
        found = selectors.return_list().filter(Q(number=term) | Q(order__number=term)).first()
        if found is not None:
            return redirect("returns-pages:return", number=found.number)
        messages.error(request, f"No return or order {term}.")
    location = _home_location(request.user)
    queues = []
    if location is not None:
        rows = selectors.return_list_with_units()
        queues = [
            (
                "Expected here",
                rows.filter(status=ReturnStatus.APPROVED, drop_off_location=location).order_by("created_at", "id"),
            ),
            (
                "To inspect",
                rows.filter(status=ReturnStatus.RECEIVED, received_location=location).order_by("received_at"),
            ),
            (
                "To resolve",
                rows.filter(status=ReturnStatus.INSPECTED, received_location=location).order_by("inspected_at"),
            ),
        ]
    if request.user.has_perm("returns.approve_returnrequest"):
        waiting = selectors.return_list_with_units().filter(status=ReturnStatus.REQUESTED).order_by("created_at", "id")
        queues.append(("Waiting for a decision", waiting))
    queues = [(title, list(rows[:SHOWN])) for title, rows in queues]
    return render(request, "returns/return_list.html", {"location": location, "queues": queues, "term": term})


class PeriodForm(forms.Form):
    since = forms.DateField(label="From")
    until = forms.DateField(label="Until (not included)")
    location = forms.ModelChoiceField(queryset=Location.objects.order_by("name"), required=False, label="Location")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and (until <= since or (until - since).days > 3 * 366):
            raise forms.ValidationError("Choose a period that ends after it starts, of at most three years.")
        return data


@staff_required
def return_analytics(request):
    """The managers' figures for a period and location (the last 90 days by default)."""
    _require(request.user, "returns.analytics_returnrequest")
    today = timezone.localdate()
    form = PeriodForm(request.GET or {"since": today - timedelta(days=90), "until": today + timedelta(days=1)})
    figures = None
    if form.is_valid():
        data = form.cleaned_data
        figures = selectors.returns_analytics(
            since=datetime.combine(data["since"], time.min, tzinfo=UTC),
            until=datetime.combine(data["until"], time.min, tzinfo=UTC),
            location=data["location"],
        )
        for row in figures.by_reason:
            row["label"] = ReturnReason(row["reason"]).label
    return render(request, "returns/analytics.html", {"form": form, "figures": figures})


class ReceiveForm(forms.Form):
    """One count per line, named line-<id>."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        for line in lines:
            self.fields[f"line-{line.pk}"] = forms.IntegerField(
                min_value=0, max_value=100_000, initial=line.quantity, label=f"{line.order_line.product.name} arrived"
            )


class InspectForm(forms.Form):
    """Per line: how the units that arrived are graded and where they go (all alike; the API
    splits a line's units between dispositions)."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        for line in lines:
            name = f"{line.order_line.product.name} ({line.quantity_received})"
            self.fields[f"grade-{line.pk}"] = forms.ChoiceField(choices=ItemGrade.choices, label=f"{name}: grade")
            self.fields[f"disposition-{line.pk}"] = forms.ChoiceField(choices=Disposition.choices, label="goes to")
            self.fields[f"value-{line.pk}"] = forms.DecimalField(
                min_value=Decimal("0"), max_digits=12, decimal_places=2, initial=Decimal("0"), label="recovers"
            )


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500)


def _return(number):
    return get_object_or_404(selectors.return_detail(), number=number)


@staff_required
def return_page(request, number):
    _require(request.user, "returns.view_returnrequest")
    request_obj = _return(number)
    lines = list(request_obj.lines.all())
    return render(
        request,
        "returns/return.html",
        {
            "ret": request_obj,
            "lines": lines,
            "inspect_form": InspectForm(lines=[line for line in lines if line.quantity_received]),
            "location": _home_location(request.user),
            "tz": _zone(request_obj),
            "may_decide": request.user.has_perm("returns.approve_returnrequest"),
        },
    )


def _zone(request_obj):
    """Times as the place that handles the parcel shows them, else as the customer's clock."""
    place = request_obj.received_location or request_obj.drop_off_location
    return zone_or_utc(place.time_zone if place else request_obj.customer.time_zone)


def _done(request, number, work, success: str):
    try:
        work()
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "detail", str(exc)))
    else:
        messages.success(request, success)
    return redirect("returns-pages:return", number=number)


def _form_errors(form) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


@require_POST
@staff_required
def return_receive(request, number):
    _require(request.user, "returns.change_returnrequest")
    request_obj = _return(number)
    lines = list(request_obj.lines.all())
    form = ReceiveForm(request.POST, lines=lines)
    location = _home_location(request.user)
    if not form.is_valid() or location is None:
        messages.error(request, f"Nothing was recorded. {_form_errors(form) or 'You have no home location.'}")
        return redirect("returns-pages:return", number=number)
    counts = [{"return_line": line.pk, "quantity_received": form.cleaned_data[f"line-{line.pk}"]} for line in lines]
    return _done(
        request,
        number,
        lambda: services.return_receive(
            actor=request.user, return_request=request_obj, location=location, lines=counts
        ),
        f"Return {number} received at {location.name}; the customer has been told.",
    )


@require_POST
@staff_required
def return_inspect(request, number):
    _require(request.user, "returns.change_returnrequest")
    request_obj = _return(number)
    lines = [line for line in request_obj.lines.all() if line.quantity_received]
    form = InspectForm(request.POST, lines=lines)
    if not form.is_valid():
        messages.error(request, f"Nothing was recorded. {_form_errors(form)}")
        return redirect("returns-pages:return", number=number)
    data = form.cleaned_data
    items = [
        {
            "return_line": line.pk,
            "quantity": line.quantity_received,
            "grade": data[f"grade-{line.pk}"],
            "disposition": data[f"disposition-{line.pk}"],
            "recovered_value": data[f"value-{line.pk}"],
        }
        for line in lines
    ]
    return _done(
        request,
        number,
        lambda: services.return_inspect(actor=request.user, return_request=request_obj, items=items),
        f"Return {number} inspected; restocked units are on the shelf.",
    )


@require_POST
@staff_required
def return_refund(request, number):
    _require(request.user, "returns.change_returnrequest")
    request_obj = _return(number)
    return _done(
        request,
        number,
        lambda: services.return_refund(actor=request.user, return_request=request_obj),
        f"Return {number} resolved: {request_obj.get_resolution_display().lower()}; the customer has been told.",
    )


@require_POST
@staff_required
def return_decide(request, number):
    _require(request.user, "returns.approve_returnrequest")
    request_obj = _return(number)
    if request.POST.get("decision") == "approve":
        return _done(
            request,
            number,
            lambda: services.return_approve(actor=request.user, return_request=request_obj),
            f"Return {number} approved; the customer has been told how to send it.",
        )
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the return is rejected; the customer is told.")
        return redirect("returns-pages:return", number=number)
    return _done(
        request,
        number,
        lambda: services.return_reject(
            actor=request.user, return_request=request_obj, reason=form.cleaned_data["reason"]
        ),
        f"Return {number} rejected; the customer has been told why.",
    )
