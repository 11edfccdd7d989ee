"""What the installations pages (appointments, alterations) share: the role guard, the signed-in
user's home location and time zone, and whether they may act at a location."""

from django.core.exceptions import PermissionDenied

from core.services.inventory import check_home_location
from core.timezones import zone_or_utc


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
