"""`GET /api/v1/fulfillment-options/`: how an order can reach the customer, most sustainable and
convenient first. Shown at checkout by the customer's app and by staff taking an order."""

from decimal import Decimal

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from core.api.base import StrictSerializer
from core.auth import mfa_satisfied
from orders.fulfillment import PRICE_CURRENCY, OptionKind, fulfilment_options

MAX_RADIUS_KM = 100
MAX_PER_KIND = 20


class IsStaffOrCustomer(BasePermission):
    """Any staff member (with a second factor where their role needs one) or app customer."""

    message = "Sign in as a staff member or as a customer of the app."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if getattr(user, "customer", None) is not None:
            return True
        if not user.is_staff_member:
            return False
        if not mfa_satisfied(user):
            self.message = "Your role requires two-factor authentication; set it up under /accounts/2fa/."
            return False
        return True


def coordinate_field(limit: int, **kwargs):
    # Any precision: phones send doubles with 15 digits; the range check is what matters.
    return serializers.DecimalField(max_digits=None, decimal_places=None, min_value=-limit, max_value=limit, **kwargs)


class FulfilmentQuerySerializer(StrictSerializer):
    latitude = coordinate_field(90, help_text="Where the order goes: WGS 84 degrees, -90 to 90.")
    longitude = coordinate_field(180, help_text="Where the order goes: WGS 84 degrees, -180 to 180.")
    order_value = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="The basket's value; decides whether home delivery is free.",
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        max_length=3,
        default=PRICE_CURRENCY,
        error_messages={"invalid": "ISO 4217 code."},
        help_text=f"ISO 4217; delivery is priced in {PRICE_CURRENCY}.",
    )
    radius_km = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=Decimal("0.1"),
        max_value=MAX_RADIUS_KM,
        default=Decimal("25"),
        help_text=f"How far to look for lockers, pickup points and stores: 0.1 to {MAX_RADIUS_KM} km.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PER_KIND, default=5, help_text="At most this many lockers, points and stores each."
    )

    def validate_currency(self, value):
        if value != PRICE_CURRENCY:
            raise serializers.ValidationError(f"Delivery is priced in {PRICE_CURRENCY} only.")
        return value


class FulfilmentAddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(source="address_line1")
    line2 = serializers.CharField(source="address_line2")
    postcode = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()


class FulfilmentLocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    address = FulfilmentAddressSerializer(source="*")
    open_24h = serializers.BooleanField()
    opening_hours = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
        help_text='Weekday to [open, close] spans in local time, e.g. {"mon": [["09:00", "18:00"]]}; '
        "days absent are closed.",
    )
    time_zone = serializers.CharField(help_text="The time zone of the opening hours.")


class FulfilmentOptionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OptionKind.choices)
    location = FulfilmentLocationSerializer(allow_null=True, help_text="Where to collect; null for home delivery.")
    distance_km = serializers.FloatField(
        allow_null=True, help_text="Straight-line distance, one decimal; null for home delivery."
    )
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    co2_grams = serializers.IntegerField(
        help_text="Estimated grams of CO2 of the last mile, the customer's trip included (an estimate for "
        "comparing the options; see orders.fulfillment.Co2Model)."
    )


class FulfilmentOptionsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    free_delivery_from = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Home delivery is free from this order value."
    )
    options = FulfilmentOptionSerializer(many=True)


class FulfilmentOptionsView(APIView):
    permission_classes = [IsStaffOrCustomer]

    @extend_schema(
        parameters=[FulfilmentQuerySerializer],
        responses={
            200: FulfilmentOptionsSerializer,
            400: OpenApiResponse(description="Invalid query parameters (problem+json, field by field)."),
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Neither a staff member nor a customer of the app."),
        },
    )
    def get(self, request):
        """Ways to get an order of this value to this place: 24-hour lockers, other lockers and
        pickup points, stores, then home delivery; nearest first within each group."""
        query = FulfilmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = fulfilment_options(**query.validated_data)
        currency = query.validated_data["currency"]
        body = {"currency": currency, "free_delivery_from": settings.ORDERS_FREE_DELIVERY_FROM, "options": options}
        return Response(FulfilmentOptionsSerializer(body).data)


urlpatterns = [path("fulfillment-options/", FulfilmentOptionsView.as_view(), name="fulfillment-options")]


def register(router: SimpleRouter) -> None:
    """Nothing on the router: the options are one computed read, not a resource collection."""
