"""Input of the training session page: enrol a customer, record who came, move or resize the
session, call it off. Times are typed as the session's store reads its clock."""

from datetime import UTC, datetime, timedelta

from django import forms

from core.models import Customer
from installations.forms import DayField


class EnrolForm(forms.Form):
    customer = forms.CharField(
        max_length=12, label="Customer number", error_messages={"required": "Give the customer's number."}
    )

    def clean_customer(self) -> Customer:
        number = self.cleaned_data["customer"].strip().upper()
        customer = Customer.objects.filter(number=number).first()
        if customer is None:
            raise forms.ValidationError(f"No customer with number {number}.")
        return customer


class AttendanceForm(forms.Form):
    """A box per seated customer: ticked came, unticked absent."""

    def __init__(self, *args, seated=(), **kwargs):
        super().__init__(*args, **kwargs)
        for enrolment in seated:
            self.fields[f"came_{enrolment.customer_id}"] = forms.BooleanField(
                required=False, label=enrolment.customer.full_name
            )

    def attended(self) -> list[int]:
        return [int(name.removeprefix("came_")) for name, ticked in self.cleaned_data.items() if ticked]


class SessionChangeForm(forms.Form):
    """The session's day, times and seats as the page showed them (sent back as hidden initial
    values): only what is typed differently changes, so a save never undoes a move someone else
    made meanwhile. Times are the store's wall clock; an end before the start is the next day."""

    day = DayField(label="Day")
    starts = forms.TimeField(label="From")
    ends = forms.TimeField(label="Until", help_text="Before the start: the next day")
    capacity = forms.IntegerField(min_value=1, max_value=32767, label="Seats")
    reason = forms.CharField(
        max_length=200, required=False, label="Reason", help_text="Told with a new time to everyone enrolled or waiting"
    )

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        for name in ("day", "starts", "ends", "capacity"):
            self.fields[name].show_hidden_initial = True

    @classmethod
    def showing(cls, session, zone, **kwargs):
        starts, ends = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
        initial = {"day": starts.date(), "starts": starts.time(), "ends": ends.time(), "capacity": session.capacity}
        return cls(initial=initial, zone=zone, **kwargs)

    def _instant(self, day, clock, name) -> datetime | None:
        local = datetime.combine(day, clock, tzinfo=self.zone)
        if local.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != local.replace(tzinfo=None):
            self.add_error(name, f"{clock:%H:%M} does not exist that day: the clocks go forward.")
            return None
        if local.replace(fold=1).utcoffset() != local.utcoffset():
            self.add_error(name, f"{clock:%H:%M} happens twice that night (the clocks go back): choose another.")
            return None
        return local.astimezone(UTC)

    def clean(self):
        data = super().clean()
        self.new_times = None
        if self.errors or not {"day", "starts", "ends"} & set(self.changed_data):
            return data
        day, start_clock, end_clock = data["day"], data["starts"], data["ends"]  # add_error drops them from data
        starts = self._instant(day, start_clock, "starts")
        ends = self._instant(day if end_clock > start_clock else day + timedelta(days=1), end_clock, "ends")
        if starts is not None and ends is not None:
            self.new_times = (starts, ends)
        return data

    def changes(self) -> dict:
        """What was typed differently from what the page showed."""
        changes = {"capacity": self.cleaned_data["capacity"]} if "capacity" in self.changed_data else {}
        if self.new_times is not None:
            changes["starts_at"], changes["ends_at"] = self.new_times
        return changes


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason to call it off",
        help_text="Told to everyone enrolled or waiting",
        error_messages={"required": "Say why the session is called off."},
    )
