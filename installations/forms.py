"""Input of the installations pages: which calendar, what to book, and the appointment's actions."""

import re
from datetime import UTC, date, datetime, timedelta

from django import forms

from core.models import AssociateProfile, Location
from installations.selectors import MAX_DAYS, Slot

CHECKLIST_ROWS = 5
# Days the pages accept: far enough either way for any calendar, near enough that a week or a
# month added to them is still a date.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9000, 12, 31)
NOT_OFFERED = "Choose one of the free times offered."


class DayField(forms.DateField):
    def validate(self, value):
        super().validate(value)
        if value and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(f"Choose a day between {FIRST_DAY:%Y} and {LAST_DAY:%Y}.")


def parse_offset_datetime(value: str) -> datetime:
    """An ISO 8601 instant with its UTC offset (a naive, malformed or far-off one is refused)."""
    if not isinstance(value, str) or "\x00" in value:
        raise forms.ValidationError(NOT_OFFERED)
    try:
        parsed = datetime.fromisoformat(value.strip())
        in_utc = parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        raise forms.ValidationError(NOT_OFFERED) from None
    if in_utc is None or not FIRST_DAY <= in_utc.date() <= LAST_DAY:
        raise forms.ValidationError(NOT_OFFERED)
    return parsed


class CalendarForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.order_by("name"), required=False)
    associate = forms.ModelChoiceField(
        queryset=AssociateProfile.objects.select_related("user", "home_location"), required=False
    )
    week = DayField(required=False, help_text="Any day of the week")


class BookSearchForm(forms.Form):
    """The Book page's query: where, the order, which line with which service, and the days."""

    location = forms.ModelChoiceField(queryset=Location.objects.order_by("name"), required=False)
    date = DayField(required=False, help_text="The calendar day the booking started from")
    order = forms.CharField(max_length=20, required=False, label="Order number", strip=True)
    offer = forms.RegexField(regex=r"\A[0-9]{1,18}:[0-9]{1,18}\Z", required=False, label="Product and service")
    date_from = DayField(required=False, label="From")
    date_to = DayField(required=False, label="Until (included)")

    def clean_order(self):
        return self.cleaned_data["order"].upper()

    def clean(self):
        data = super().clean()
        since, until = data.get("date_from"), data.get("date_to")
        if since and until and (until < since or (until - since).days >= MAX_DAYS):
            self.add_error("date_to", f"Choose 1 to {MAX_DAYS} days, ending on or after the first.")
        return data

    def offer_ids(self) -> tuple[int, int] | None:
        offer = self.cleaned_data.get("offer")
        if not offer:
            return None
        line, service = offer.split(":")
        return int(line), int(service)

    def days(self, today: date) -> tuple[date, date]:
        """The range to search: as asked, else a week from the calendar's day (not before today)."""
        data = self.cleaned_data
        since = data.get("date_from") or max(data.get("date") or today, today)
        until = data.get("date_to") or since + timedelta(days=6)
        if until < since or (until - since).days >= MAX_DAYS:
            until = since + timedelta(days=6)
        return since, until


class BookForm(BookSearchForm):
    """The booking itself: one of the free slots offered and, for a home visit, the address."""

    slot = forms.CharField(
        max_length=80, label="Free time", error_messages={"required": "Choose one of the free times."}
    )
    address = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False, label="Address")

    def clean_slot(self) -> Slot:
        associate, _, starts = self.cleaned_data["slot"].partition("@")
        if not re.fullmatch(r"[0-9]{1,18}", associate):
            raise forms.ValidationError(NOT_OFFERED)
        starts_at = parse_offset_datetime(starts)
        return Slot(int(associate), starts_at, starts_at)

    def clean(self):
        data = super().clean()
        if not data.get("offer") and "offer" not in self.errors:
            self.add_error("offer", "Choose the product and the service.")
        return data


class RescheduleForm(forms.Form):
    starts_at = forms.CharField(
        max_length=40, label="New time", error_messages={"required": "Choose one of the free times."}
    )

    def clean_starts_at(self) -> datetime:
        return parse_offset_datetime(self.cleaned_data["starts_at"])


class ScheduleForm(forms.Form):
    """One of the free slots offered for a request: `associate id|start`."""

    slot = forms.CharField(max_length=60, error_messages={"required": "Choose one of the free times."})

    def clean(self):
        data = super().clean()
        who, _, when = (data.get("slot") or "").partition("|")
        valid_id = re.fullmatch(r"[0-9]{1,18}", who) is not None
        associate = AssociateProfile.objects.filter(pk=int(who)).first() if valid_id else None
        if associate is None:
            raise forms.ValidationError("Choose one of the free times.")
        data["associate"], data["starts_at"] = associate, parse_offset_datetime(when)
        return data


class SlotRangeForm(forms.Form):
    """Which days to look for free slots in (the appointment page's reschedule search)."""

    since = DayField(required=False, label="Free times from")
    until = DayField(required=False, label="until")

    def days(self, today: date) -> tuple[date, date]:
        data = self.cleaned_data if self.is_valid() else {}
        since = max(data.get("since") or today, today)
        until = data.get("until") or since + timedelta(days=13)
        if until < since or (until - since).days >= MAX_DAYS:
            until = since + timedelta(days=13)
        return since, until


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason to cancel",
        help_text="Told to the customer",
        error_messages={"required": "Say why the appointment is cancelled."},
    )


class CompleteForm(forms.Form):
    """The record of the work: what was checked, notes, and who signed it off."""

    notes = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    signed_off_by = forms.CharField(
        max_length=120,
        label="Signed off by",
        help_text="The customer, or whoever was there",
        error_messages={"required": "Say who signed the work off."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for row in range(1, CHECKLIST_ROWS + 1):
            self.fields[f"item_{row}"] = forms.CharField(max_length=200, required=False, label=f"Checklist item {row}")
            self.fields[f"done_{row}"] = forms.BooleanField(required=False, label=f"Item {row} done")
        self.order_fields([*self.checklist_fields(), "notes", "signed_off_by"])

    def checklist_fields(self) -> list[str]:
        return [name for row in range(1, CHECKLIST_ROWS + 1) for name in (f"item_{row}", f"done_{row}")]

    def checklist_rows(self):
        """(item field, done field) per row, for the template."""
        return [(self[f"item_{row}"], self[f"done_{row}"]) for row in range(1, CHECKLIST_ROWS + 1)]

    def checklist(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {"item": data[f"item_{row}"], "done": data[f"done_{row}"]}
            for row in range(1, CHECKLIST_ROWS + 1)
            if data[f"item_{row}"]
        ]


def form_errors(form) -> str:
    return "; ".join(
        " ".join(errors) if field == "__all__" else f"{form.fields[field].label or field}: {' '.join(errors)}"
        for field, errors in form.errors.items()
    )
