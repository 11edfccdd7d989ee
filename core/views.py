"""Associate pages: today's desk, customer search, and a customer's record with its timeline."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from core import selectors
from core.choices import Channel, TouchpointKind
from core.models import Customer
from core.timezones import zone_or_utc

TIMELINE_PAGE_SIZE = 25
SEARCH_PAGE_SIZE = 25


def staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff_member:
            raise PermissionDenied("These pages are for the retailer's staff.")
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def today(request):
    profile = getattr(request.user, "associate", None)
    location = profile.home_location if profile else None
    touchpoints = []
    if location is not None:
        touchpoints = list(selectors.location_touchpoints_today(location.pk, zone_or_utc(location.time_zone))[:50])
    return render(request, "core/today.html", {"profile": profile, "location": location, "touchpoints": touchpoints})


@staff_required
def customer_search(request):
    term = request.GET.get("q", "").strip()[:100]
    customers = Customer.objects.none()
    if term:
        customers = selectors.customer_list().filter(
            Q(number__iexact=term)
            | Q(email__iexact=term)
            | Q(phone=term)
            | Q(family_name__istartswith=term)
            | Q(given_name__istartswith=term)
        )
    page = Paginator(customers, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/customer_search.html", {"term": term, "page": page})


@staff_required
def customer_detail(request, number):
    customer = get_object_or_404(selectors.customer_detail(), number=number)
    kind = request.GET.get("kind", "")
    kind = kind if kind in TouchpointKind.values else ""
    channel = request.GET.get("channel", "")
    channel = channel if channel in Channel.values else ""
    timeline = selectors.customer_timeline(customer.pk)
    if kind:
        timeline = timeline.filter(kind=kind)
    if channel:
        timeline = timeline.filter(channel=channel)
    page = Paginator(timeline, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/customer_detail.html",
        {
            "customer": customer,
            "page": page,
            "kind": kind,
            "channel": channel,
            "kinds": TouchpointKind.choices,
            "channels": Channel.choices,
            "tz": zone_or_utc(customer.time_zone),
        },
    )
