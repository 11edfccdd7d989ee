"""Time zone names: validated where people type them, tolerated where old rows are read."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _known():
        raise ValidationError("Unknown time zone; use an IANA name such as Europe/Amsterdam.", code="invalid")


def zone_or_utc(name: str) -> zoneinfo.ZoneInfo:
    """The named zone, or UTC for a name that is not (or no longer) known, rather than a 500."""
    return zoneinfo.ZoneInfo(name if name in _known() else "UTC")
