"""Input of the alteration pages: which queue, what to take on a purchase, and each step's form."""

from django import forms

from core.models import Location
from installations.choices import AlterationStatus
from installations.services_alterations import MAX_MEASUREMENT_TEXT, MAX_MEASUREMENTS

MEASURE_ROWS = 6
ALL = "all"


class QueueForm(forms.Form):
    """The queue's query: the store, the state (default: open and ready), mine only, a number."""

    location = forms.ModelChoiceField(queryset=Location.objects.order_by("name"), required=False, label="Store")
    status = forms.ChoiceField(
        choices=[("", "Open and ready"), *AlterationStatus.choices, (ALL, "All")], required=False
    )
    mine = forms.BooleanField(required=False, label="Assigned to me")
    q = forms.CharField(max_length=20, required=False, strip=True, label="Work order or order number")

    def clean_q(self):
        return self.cleaned_data["q"].upper()


class NewAlterationSearchForm(forms.Form):
    """The new work order page's query: the store, the purchase, and which item with which kind."""

    location = forms.ModelChoiceField(queryset=Location.objects.order_by("name"), required=False, label="Store")
    order = forms.CharField(max_length=20, required=False, label="Order number", strip=True)
    offer = forms.RegexField(regex=r"\A[0-9]{1,18}:[0-9]{1,18}\Z", required=False, label="Item and alteration")

    def clean_order(self):
        return self.cleaned_data["order"].upper()

    def offer_ids(self) -> tuple[int, int] | None:
        offer = self.cleaned_data.get("offer")
        if not offer:
            return None
        line, kind = offer.split(":")
        return int(line), int(kind)


class NewAlterationForm(NewAlterationSearchForm):
    specification = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what is to be done."},
    )
    assigned_to = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False, label="Tailor")

    def clean(self):
        data = super().clean()
        if not data.get("order") and "order" not in self.errors:
            self.add_error("order", "Find the order first.")
        if not data.get("offer") and "offer" not in self.errors:
            self.add_error("offer", "Choose the item and the alteration.")
        return data


class MeasureForm(forms.Form):
    """Measurements as name and value rows; blank rows are dropped. A bound form reads the rows
    sent, up to the service's limit, whatever number of rows the page showed."""

    def __init__(self, *args, rows: int = MEASURE_ROWS, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            sent = (
                row
                for row in range(1, MAX_MEASUREMENTS + 1)
                if self.data.get(self.add_prefix(f"name_{row}")) or self.data.get(self.add_prefix(f"value_{row}"))
            )
            rows = max(sent, default=0)
        self.rows = min(max(rows, MEASURE_ROWS), MAX_MEASUREMENTS)
        for row in range(1, self.rows + 1):
            self.fields[f"name_{row}"] = forms.CharField(
                max_length=MAX_MEASUREMENT_TEXT, required=False, label=f"Measurement {row}"
            )
            self.fields[f"value_{row}"] = forms.CharField(
                max_length=MAX_MEASUREMENT_TEXT, required=False, label=f"Value {row}"
            )

    @classmethod
    def showing(cls, measurements: dict, **kwargs):
        """An unbound form holding the measurements taken so far, with room for more."""
        initial = {}
        for row, (name, value) in enumerate(measurements.items(), start=1):
            initial |= {f"name_{row}": name, f"value_{row}": value}
        return cls(initial=initial, rows=len(measurements) + 2, **kwargs)

    def row_fields(self):
        """(name field, value field) per row, for the template."""
        return [(self[f"name_{row}"], self[f"value_{row}"]) for row in range(1, self.rows + 1)]

    def clean(self):
        data = super().clean()
        seen = set()
        for row in range(1, self.rows + 1):
            if f"name_{row}" in self.errors or f"value_{row}" in self.errors:
                continue
            name, value = data.get(f"name_{row}", ""), data.get(f"value_{row}", "")
            if bool(name) != bool(value):
                self.add_error(f"name_{row}" if value else f"value_{row}", "Give both the name and the value.")
            elif name and name.casefold() in seen:
                self.add_error(f"name_{row}", f"{name} is measured twice.")
            seen.add(name.casefold())
        if not self.errors and not self.measurements():
            raise forms.ValidationError("Give at least one measurement, as name and value.")
        return data

    def measurements(self) -> dict:
        data = self.cleaned_data
        return {
            data[f"name_{row}"]: data[f"value_{row}"]
            for row in range(1, self.rows + 1)
            if data.get(f"name_{row}") and data.get(f"value_{row}")
        }


class AssignForm(forms.Form):
    def __init__(self, *args, associates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["associate"] = forms.ModelChoiceField(
            queryset=associates,
            label="Assign to",
            empty_label=None,
            error_messages={
                "required": "Choose who does the work.",
                "invalid_choice": "Choose one of the associates listed.",
            },
        )
        self.fields["associate"].label_from_instance = lambda profile: (
            profile.user.get_full_name() or profile.user.email
        )


class QualityCheckForm(forms.Form):
    result = forms.ChoiceField(
        choices=[("passed", "Passed"), ("failed", "Failed")],
        widget=forms.RadioSelect,
        label="Result",
        error_messages={"required": "Say whether the work passed.", "invalid_choice": "Say passed or failed."},
    )
    note = forms.CharField(
        max_length=500, required=False, label="Note", help_text="What is to be put right, when it failed"
    )

    @property
    def passed(self) -> bool:
        return self.cleaned_data["result"] == "passed"


class CollectForm(forms.Form):
    code = forms.CharField(
        max_length=40,
        label="Code the customer shows",
        error_messages={"required": "Type the code the customer shows."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason to cancel",
        help_text="Told to the customer",
        error_messages={"required": "Say why the alteration is cancelled."},
    )
