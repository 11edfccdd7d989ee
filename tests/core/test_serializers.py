"""The hand-built representations of the hot reads say exactly what DRF's generic path says."""

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers as drf

from core import selectors
from core.api.serializers import CustomerListSerializer, CustomerSerializer, TouchpointSerializer
from core.models import Touchpoint
from tests.factories import (
    AssociateProfileFactory,
    CustomerAddressFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def _generic(serializer_class, instance):
    """What DRF itself would render from the declared fields."""
    return dict(drf.ModelSerializer.to_representation(serializer_class(), instance))


def _normalise(data):
    """DRF's nested serializers return ReturnDict/OrderedDict; compare plain values."""
    if isinstance(data, dict):
        return {key: _normalise(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_normalise(value) for value in data]
    return data


def test_customer_list_and_detail_match_drf():
    customer = CustomerFactory(alternate_email="alt@example.com", consent_sms=True)
    CustomerAddressFactory(customer=customer, latitude=Decimal("52.1"), longitude=Decimal("-4.123456"))
    CustomerAddressFactory(customer=customer, is_default=False, latitude=None, longitude=None)
    customer.external_ids.create(source="pos", external_id="77")
    customer = selectors.customer_record().get(pk=customer.pk)

    assert CustomerListSerializer(customer).data == _normalise(_generic(CustomerListSerializer, customer))
    assert CustomerSerializer(customer).data == _normalise(_generic(CustomerSerializer, customer))


class GenericTouchpointColumns(drf.ModelSerializer):
    class Meta:
        model = Touchpoint
        fields = ["id", "kind", "channel", "occurred_at", "summary", "order_number"]


def test_timeline_rows_match_drf():
    customer = CustomerFactory()
    associate = AssociateProfileFactory(user__first_name="Noor", user__last_name="Visser").user
    location, product = LocationFactory(), ProductFactory()
    full = TouchpointFactory(
        customer=customer, associate=associate, location=location, product=product, order_number="R23456789"
    )
    bare = TouchpointFactory(customer=customer, occurred_at=timezone.now())
    rows = selectors.customer_timeline(customer.pk)

    fast = {row["id"]: row for row in TouchpointSerializer(rows, many=True).data}

    for row in rows:
        columns = GenericTouchpointColumns(row).data
        assert {key: fast[row.pk][key] for key in columns} == dict(columns)
    assert fast[full.pk]["associate"] == {"id": associate.pk, "name": "Noor Visser"}
    assert fast[full.pk]["location"] == {"id": location.pk, "code": location.code, "name": location.name}
    assert fast[full.pk]["product"] == {"id": product.pk, "sku": product.sku, "name": product.name}
    assert fast[bare.pk]["associate"] is None and fast[bare.pk]["subject"] is None


@pytest.mark.parametrize(
    "moment",
    [
        timezone.now(),
        timezone.now().replace(microsecond=0),
        timezone.datetime(2026, 3, 29, 1, 30, tzinfo=timezone.get_fixed_timezone(120)),
    ],
)
def test_timestamps_are_written_as_drf_writes_them(moment):
    from core.api.serializers import _datetime

    assert _datetime(moment) == drf.DateTimeField().to_representation(moment)
