"""What the installations pages (appointments, alterations, training) share: the role guard, the
signed-in user's home location and time zone, whether they may act at a location, and the recipe
of one step taken from an object's page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied

from core.errors import DomainError
from core.services.inventory import check_home_location
from core.timezones import zone_or_utc
from installations.forms import form_errors


def require(user, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied("Your role does not allow this.")


def home_location(user):
    profile = getattr(user, "associate", None)
    return profile.home_location if profile else None


def acts_at(user, location_id) -> bool:
    """The rule of `check_home_location`, as a yes or no for what a page offers."""
    try:
        check_home_location(user, location_id, "")
    except PermissionDenied:
        return False
    return True


def location_zone(location):
    return zone_or_utc(location.time_zone)


def page_step(request, obj, *, location_id, elsewhere, page, name, form, work, success, back, echo=True):
    """One step on `obj` from its page: `form(obj, data)` bound to the POST (None: the step has no
    form), then `work(obj, form)`. Done: `back()` (a redirect to the page) saying `success(done)`.
    Refused (another store, bad input, a rule, the state): `page(request, obj, status=, sent=)`
    again, saying why, with the status the API would answer, and the form as sent unless `echo`
    is off; nothing is written."""
    if not acts_at(request.user, location_id):
        messages.error(request, elsewhere)
        return page(request, obj, status=403)
    bound = form(obj, request.POST) if form is not None else None
    sent = {name: bound} if echo else None
    if bound is not None and not bound.is_valid():
        messages.error(request, f"Nothing was changed. {form_errors(bound)}")
        return page(request, obj, status=422, sent=sent)
    try:
        done = work(obj, bound)
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "detail", str(exc)))
        return page(request, obj, status=getattr(exc, "status", 403), sent=sent)
    messages.success(request, success(done))
    return back()
