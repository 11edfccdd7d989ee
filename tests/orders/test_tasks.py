"""Every periodic task the beat schedule names exists and runs on an empty database."""

import pytest
from django.conf import settings

from core.celery import app

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_each_scheduled_task_is_registered_and_runs(entry):
    app.loader.import_default_modules()
    name = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    assert name in app.tasks, f"{entry}: no task named {name}"
    app.tasks[name].apply().get()  # in-process, as with no broker
