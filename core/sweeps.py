"""Periodic sweeps walk the rows that are due (reminders, expiries) a batch at a time: each batch
is claimed and handled in its own transaction, locked with SKIP LOCKED so two sweeps never take
the same row, and the walk goes forward along the (key, id) order, so it ends whatever happens to
a row (one left unchanged by a failure is not read again in the same sweep)."""

from django.db import transaction
from django.db.models import Q


def next_batch(queryset, *, key: str, size: int, after=None):
    """The next `size` rows of `queryset` in (`key`, id) order after `after` (the (key, id) of the
    previous batch's last row), to be locked by the caller's transaction; rows another worker
    holds are skipped (the next sweep takes them)."""
    if after is not None:
        value, pk = after
        queryset = queryset.filter(Q(**{f"{key}__gt": value}) | Q(**{key: value, "pk__gt": pk}))
    return queryset.select_for_update(skip_locked=True, of=("self",)).order_by(key, "id")[:size]


def in_batches(claim, handle, *, key: str) -> None:
    """Call `handle(batch)` for every batch `claim(after)` returns, each in its own transaction."""
    after = None
    while True:
        with transaction.atomic():
            batch = list(claim(after))
            if not batch:
                return
            after = (getattr(batch[-1], key), batch[-1].pk)
            handle(batch)
