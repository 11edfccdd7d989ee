"""Model permissions served from the cache instead of two queries on every API call.

Every staff request asks "may this role do that?"; Django's ModelBackend answers with two
queries (the user's own permissions, their groups' permissions). Roles change rarely, so the
answer is cached per user, stamped with a global version that any change to a group's permissions,
a user's groups or a user's own permissions bumps; one `get_many` reads the version and the answer
together, so a request costs one cache round trip. Use a shared cache (CACHE_URL=redis://…) when
several processes serve requests: a local-memory cache only sees its own process's bumps, so
there a change reaches the other processes when the entry expires (PERMISSION_CACHE_SECONDS).
"""

import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "permissions:version"


def _bump() -> None:
    if cache.add(VERSION_KEY, time.time_ns(), timeout=None):
        return
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # evicted in between
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)


def bump_version(**kwargs) -> None:
    """Signal receiver: forget every cached answer, now and again once the change has committed
    (a request between the two could otherwise cache the old answer under the new version)."""
    _bump()
    transaction.on_commit(_bump)


class CachedModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            # date_joined tells two users apart should an id ever be reused; is_superuser changes
            # the answer without touching groups.
            joined = user_obj.date_joined.timestamp()
            key = f"permissions:{user_obj.pk}:{joined}:{int(user_obj.is_superuser)}"
            found = cache.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY)
            if version is None:
                # Seeded with the clock, not 1: should the key be evicted, old answers must not match again.
                cache.add(VERSION_KEY, time.time_ns(), timeout=None)
                version = cache.get(VERSION_KEY)
            stamped = found.get(key)
            if stamped is not None and stamped[0] == version:
                perms = stamped[1]
            else:
                # The version was read first: a bump while this runs leaves a stale stamp, never a stale answer.
                perms = super().get_all_permissions(user_obj)
                cache.set(key, (version, perms), settings.PERMISSION_CACHE_SECONDS)
            user_obj._perm_cache = perms
        return user_obj._perm_cache
