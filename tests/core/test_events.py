"""Domain events between apps: delivered after commit, each handler on its own with retries,
nothing after a rollback."""

import pytest
from django.db import transaction

from core import events

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

received = []
attempts = {"flaky": 0}


def record(**payload):
    received.append(payload)


def broken(**payload):
    raise ValueError("handler bug")


def flaky(**payload):
    attempts["flaky"] += 1
    if attempts["flaky"] == 1:
        raise ConnectionError("loyalty service briefly unreachable")
    received.append({"flaky": payload})


@pytest.fixture(autouse=True)
def _subscriptions():
    received.clear()
    attempts["flaky"] = 0
    yield
    for handler in (record, broken, flaky):
        events.unsubscribe("test.happened", handler)


def test_handlers_run_after_the_commit_with_the_payload():
    events.subscribe("test.happened", record)
    with transaction.atomic():
        events.publish("test.happened", order_id=7)
        assert received == []
    assert received == [{"order_id": 7}]


def test_a_rolled_back_transaction_publishes_nothing():
    events.subscribe("test.happened", record)
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("test.happened", order_id=8)
        raise RuntimeError
    assert received == []


def test_a_failing_handler_does_not_stop_the_others():
    events.subscribe("test.happened", broken)
    events.subscribe("test.happened", record)
    with transaction.atomic():
        events.publish("test.happened", order_id=9)
    assert received == [{"order_id": 9}]


def test_a_handler_that_fails_once_is_retried():
    events.subscribe("test.happened", flaky)
    with transaction.atomic():
        events.publish("test.happened", order_id=10)
    assert attempts["flaky"] == 2
    assert received == [{"flaky": {"order_id": 10}}]


def test_handlers_must_be_importable_by_name():
    def local_handler(**payload):
        pass

    with pytest.raises(ValueError, match="module-level"):
        events.subscribe("test.happened", local_handler)
