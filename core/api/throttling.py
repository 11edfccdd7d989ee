"""Rate limits beyond DRF's anonymous and per-user defaults."""

from rest_framework.throttling import SimpleRateThrottle

TOO_MANY_CODES = "Too many codes tried; wait a minute and try again."  # what the pages say when it refuses


class SecretLookupThrottle(SimpleRateThrottle):
    """For endpoints that look a secret up (pickup codes, voucher codes, survey links): a low rate
    per caller (the user, or the IP when anonymous) makes guessing a 64+-bit secret hopeless.
    Add it to a view's `throttle_classes` next to the defaults."""

    scope = "secret_lookup"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = user.pk if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
