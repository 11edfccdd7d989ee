"""Domain events between apps are delivered after commit, and not at all after a rollback."""

import pytest
from django.db import transaction

from core import events

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def received():
    calls = []

    def handler(**payload):
        calls.append(payload)

    events.subscribe("test.happened", handler)
    yield calls
    events.unsubscribe("test.happened", handler)


def test_handlers_run_after_the_commit_with_the_payload(received):
    with transaction.atomic():
        events.publish("test.happened", order_id=7)
        assert received == []
    assert received == [{"order_id": 7}]


def test_a_rolled_back_transaction_publishes_nothing(received):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("test.happened", order_id=8)
        raise RuntimeError
    assert received == []


def test_a_failing_handler_does_not_stop_the_others(received):
    def broken(**payload):
        raise ValueError("handler bug")

    def late(**payload):
        received.append({"late": payload})

    events.subscribe("test.happened", broken)
    events.subscribe("test.happened", late)
    try:
        with transaction.atomic():
            events.publish("test.happened", order_id=9)
    finally:
        events.unsubscribe("test.happened", broken)
        events.unsubscribe("test.happened", late)
    assert received == [{"order_id": 9}, {"late": {"order_id": 9}}]
