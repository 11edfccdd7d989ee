"""Input of the training session page: enrol a customer, record who came, move or resize the
session, call it off. Times are typed as the session's store reads its clock."""

from datetime import datetime

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
    """The session's day, times and seats as they are now; what is typed differently changes."""

    day = DayField(label="Day")
    starts = forms.TimeField(label="From")
    ends = forms.TimeField(label="Until")
    capacity = forms.IntegerField(min_value=1, max_value=32767, label="Seats")
    reason = forms.CharField(
        max_length=200, required=False, label="Reason", help_text="Told with a new time to everyone enrolled or waiting"
    )

    def __init__(self, *args, zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    @classmethod
    def showing(cls, session, zone, **kwargs):
        starts, ends = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
        initial = {"day": starts.date(), "starts": starts.time(), "ends": ends.time(), "capacity": session.capacity}
        return cls(initial=initial, zone=zone, **kwargs)

    def changes(self, session) -> dict:
        """What differs from `session`: the instants in the store's zone, and the seats."""
        data = self.cleaned_data
        starts = datetime.combine(data["day"], data["starts"], tzinfo=self.zone)
        ends = datetime.combine(data["day"], data["ends"], tzinfo=self.zone)
        wanted = {"starts_at": starts, "ends_at": ends, "capacity": data["capacity"]}
        return {name: value for name, value in wanted.items() if getattr(session, name) != value}


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason to call it off",
        help_text="Told to everyone enrolled or waiting",
        error_messages={"required": "Say why the session is called off."},
    )
