"""Associate pages for orders: an order with everything that followed it, the delivery-exception
queue with its remedies, the orders at risk of missing their promise, and today's pickups with the
hand-over. Writes go through the same services as the API."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.api.throttling import TOO_MANY_CODES, SecretLookupThrottle
from core.errors import DomainError
from core.timezones import zone_or_utc
from core.views import staff_required
from orders import selectors
from orders.choices import PickupStatus, Remedy
from orders.models import DeliveryException, Pickup
from orders.selectors_deliveries import exception_queue, remedies_at_hand
from orders.selectors_pickups import due_today_q, pickup_detail, pickup_list, pickup_suggestions
from orders.selectors_risk import orders_at_risk
from orders.services import delivery_exceptions as remedies
from orders.services.charges import ledger_from_rows
from orders.services.pickups import pickup_hand_over

PAGE_SIZE = 25


def _require(user, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied("Your role does not allow this.")


@staff_required
def order_detail(request, number):
    _require(request.user, "orders.view_order")
    order = get_object_or_404(selectors.order_detail(), number=number)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "ledger": ledger_from_rows(list(order.charges.all())),
            "messages_sent": selectors.order_messages(order),
            "tz": zone_or_utc(order.customer.time_zone),
        },
    )


class RemedyForm(forms.Form):
    remedy = forms.ChoiceField(choices=[*Remedy.choices, ("escalate", "Escalate")])
    new_estimate = forms.DateField(required=False)
    amount = forms.DecimalField(required=False, min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    note = forms.CharField(required=False, max_length=500)

    def clean(self):
        data = super().clean()
        remedy = data.get("remedy")
        if remedy == Remedy.SHIP_REST and not data.get("new_estimate"):
            self.add_error("new_estimate", "When will the rest arrive?")
        if remedy == Remedy.GOODWILL_CREDIT and not data.get("amount"):
            self.add_error("amount", "How much?")
        if remedy in (Remedy.GOODWILL_CREDIT, Remedy.FREE_SHIPPING, "escalate") and not data.get("note"):
            self.add_error("note", "Say why, for the customer's record.")
        return data


@staff_required
def exception_list(request):
    _require(request.user, "orders.view_deliveryexception")
    page = Paginator(exception_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    cases = [(exception, remedies_at_hand(exception, request.user)) for exception in page]
    return render(request, "orders/exception_queue.html", {"page": page, "cases": cases, "remedy": Remedy})


@require_POST
@staff_required
def exception_remedy(request, pk):
    _require(request.user, "orders.change_deliveryexception")
    exception = get_object_or_404(DeliveryException.objects.select_related("order"), pk=pk)
    form = RemedyForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
        messages.error(request, f"Nothing was done. {errors}")
        return redirect("orders-pages:exceptions")
    data, actor = form.cleaned_data, request.user
    try:
        if data["remedy"] == Remedy.SHIP_REST:
            remedies.exception_ship_rest(actor=actor, exception=exception, new_estimate=data["new_estimate"])
        elif data["remedy"] == Remedy.GOODWILL_CREDIT:
            remedies.exception_goodwill(actor=actor, exception=exception, amount=data["amount"], note=data["note"])
        elif data["remedy"] == Remedy.FREE_SHIPPING:
            remedies.exception_free_shipping(actor=actor, exception=exception, note=data["note"])
        else:
            remedies.exception_escalate(actor=actor, exception=exception, note=data["note"])
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Order {exception.order.number}: done, and the customer has been told.")
    return redirect("orders-pages:exceptions")


@staff_required
def at_risk_list(request):
    _require(request.user, "orders.view_order")
    page = Paginator(orders_at_risk(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/at_risk.html", {"page": page})


def _home_location(user):
    profile = getattr(user, "associate", None)
    return profile.home_location if profile else None


@staff_required
def pickups_today(request):
    _require(request.user, "orders.view_pickup")
    location = _home_location(request.user)
    waiting = []
    if location is not None:
        waiting = list(
            pickup_list().filter(location=location, status=PickupStatus.READY).order_by("expires_at", "id")[:100]
        )
        due = set(pickup_list().filter(due_today_q(), location=location).values_list("pk", flat=True))
        waiting = [(pickup, pickup.pk in due) for pickup in waiting]
    return render(request, "orders/pickups.html", {"location": location, "waiting": waiting})


class HandOverForm(forms.Form):
    code = forms.CharField(max_length=40, strip=True)


@staff_required
def pickup_page(request, number):
    _require(request.user, "orders.view_pickup")
    pickup = get_object_or_404(pickup_detail().select_related("order", "customer", "location"), number=number)
    form = HandOverForm(request.POST or None)
    status = 200
    if request.method == "POST":
        _require(request.user, "orders.change_pickup")
        if not SecretLookupThrottle().allow_request(request, None):  # the code is a secret: as the API's limit
            messages.error(request, TOO_MANY_CODES)
            status = 429
        elif form.is_valid():
            try:
                pickup_hand_over(actor=request.user, pickup=pickup, code=form.cleaned_data["code"])
            except (DomainError, PermissionDenied) as exc:
                messages.error(request, getattr(exc, "detail", str(exc)))
            else:
                messages.success(request, f"{pickup.number} handed over to {pickup.customer.full_name}.")
                return redirect("orders-pages:pickup", number=pickup.number)
    pickup = Pickup.objects.select_related("order", "customer", "location").get(pk=pickup.pk)
    suggestions = pickup_suggestions(pickup) if pickup.status == PickupStatus.READY else None
    context = {"pickup": pickup, "form": form, "suggestions": suggestions}
    return render(request, "orders/pickup.html", context, status=status)
