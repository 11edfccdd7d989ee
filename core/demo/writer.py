"""Bulk writing: reference rows created once and found again by natural key, and the rows of a batch
of new customers written parents first in a few INSERTs."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from simple_history.utils import bulk_create_with_history

from core.models import Touchpoint

if TYPE_CHECKING:
    from django.db.models import Model

    from core.demo.story import Story

BATCH_SIZE = 1000
CHANGE_REASON = "seed_demo"


def bulk_create(model, objs: list, *, history: bool = False) -> None:
    """`history`: write the audit-history rows too. Customers get none (that would cost a tenth of the
    run), so a demo customer's history starts at its first real change."""
    if not objs:
        return
    if history:
        bulk_create_with_history(objs, model, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON)
    else:
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)


def ensure(model, key: str, wanted: list, counts: Counter, *, history: bool = False) -> dict:
    """Create the rows of `wanted` whose `key` is not in the table yet; return every wanted row by key."""
    existing = model.objects.in_bulk([getattr(obj, key) for obj in wanted], field_name=key)
    missing = [obj for obj in wanted if getattr(obj, key) not in existing]
    bulk_create(model, missing, history=history)
    counts[str(model._meta.verbose_name_plural)] += len(missing)
    return {**existing, **{getattr(obj, key): obj for obj in missing}}


class Batch:
    """The unsaved rows of one batch of new customers: core's and every story step's.

    Each model's rows go in the list `rows()` hands out; the lists are written in the order they were
    first asked for, so parents (asked for first: by core, then by the apps in dependency order) have
    their primary keys before their children are written. Touchpoints go last, story by story.
    """

    def __init__(self) -> None:
        self.stories: list[Story] = []
        self._rows: dict[type[Model], list[Model]] = {}
        self._labels: dict[type[Model], str] = {}
        self._after_write: list[Callable[[], None]] = []

    def after_write(self, fill: Callable[[], None]) -> None:
        """Call `fill()` once every row of the batch is written: for the rare link that needs the key of a
        row written after it (a ledger entry naming a later table's row). Keep it to a few UPDATEs."""
        self._after_write.append(fill)

    def rows(self, model: type[Model], label: str = "") -> list:
        """The list to append new `model` rows to. `label` names them in the summary; without one, uncounted."""
        rows = self._rows.get(model)
        if rows is None:
            rows = self._rows[model] = []
            self._labels[model] = label
        return rows

    def write(self, counts: Counter) -> None:
        for model, rows in self._rows.items():
            bulk_create(model, rows)
        content_types: dict[type[Model], int] = {}
        touchpoints = []
        for story in self.stories:
            for touchpoint, subject in story.subjects:  # saved above, so it has its primary key now
                model = type(subject)
                if model not in content_types:
                    content_types[model] = ContentType.objects.get_for_model(model).pk
                touchpoint.subject_type_id = content_types[model]
                touchpoint.subject_id = subject.pk
            touchpoints.extend(story.touchpoints)
        bulk_create(Touchpoint, touchpoints)
        for fill in self._after_write:
            fill()
        for model, label in self._labels.items():
            if label:
                counts[label] += len(self._rows[model])
        counts["touchpoints"] += len(touchpoints)


@contextmanager
def gc_paused():
    """Building 100,000+ model instances triggers the cycle collector over and over (about a tenth of
    the run), and these rows hold no cycles worth collecting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
