"""Fulfilment options at checkout: the lockers, pickup-drop-off points and stores near the
customer, then home delivery, ranked most sustainable and convenient first, each with its price
and an estimated CO2 figure.

Ranking: 24-hour lockers (collect any time, and a locker bank takes many parcels in one van
stop), then other lockers and pickup-drop-off points, then store pickup, then home delivery,
always offered and always last. Within a group, nearest first; at most `limit` of each kind.

Finding the points costs one query with a bounded result: a latitude/longitude bounding box of
the radius (sargable), the haversine term computed in SQL to cut at the radius and to keep the
`limit` nearest of each (kind, open 24 hours) with a window function, so at most 6 x `limit`
rows come back however dense the map. The distances shown are computed again in Python.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, F, FloatField, Q, Value, Window
from django.db.models.functions import Cast, Cos, Power, Radians, RowNumber, Sin

from core.choices import LocationKind
from core.models import Location
from core.money import quantize

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
COORDINATE_STEP = 1e-6  # Location.latitude / longitude keep six decimals
# ORDERS_SHIPPING_FEE and ORDERS_FREE_DELIVERY_FROM are amounts in this currency.
PRICE_CURRENCY = "EUR"


class OptionKind(models.TextChoices):
    LOCKER = "locker", "Parcel locker"
    PICKUP_POINT = "pudo", "Pickup-drop-off point"
    STORE_PICKUP = "store_pickup", "Store pickup"
    HOME_DELIVERY = "home_delivery", "Home delivery"


POINT_KINDS = {
    LocationKind.LOCKER: OptionKind.LOCKER,
    LocationKind.PUDO: OptionKind.PICKUP_POINT,
    LocationKind.STORE: OptionKind.STORE_PICKUP,
}


@dataclass(frozen=True)
class Co2Model:
    """An estimate of the grams of CO2 one parcel causes on its last mile, to compare the options
    with each other, not an audited footprint. Orders of magnitude:

    - Home delivery by diesel van: about 180 g per drop (Edwards, McKinnon & Cullinane, 2010,
      "Comparative analysis of the carbon footprints of conventional and online retailing: a
      'last mile' perspective", IJPDLM 40(1/2)), plus a share for failed first attempts, which
      repeat the drop: around 12% in the same literature.
    - A van stop at a locker bank, pickup point or store serves dozens of parcels, so a parcel's
      share is a fraction of a home drop; we count 40 g.
    - The customer's trip dominates a collection's footprint (Mommens, Buldeo Rai, van Lier &
      Macharis, 2021, "Delivery to homes or collection points? A sustainability analysis for
      urban, urbanised and rural areas in Belgium", J. Transport Geography 94): within about
      2 km people walk or cycle (0 g); farther, a car trip there and back at about 160 g/km
      (the real-world average of cars on European roads, EEA monitoring), of which half is put
      on the parcel (a collection is often combined with commuting or shopping).

    Distances are straight lines; a road trip is longer, which the half share roughly absorbs.
    """

    home_drop_g: float = 180.0
    failed_attempt_rate: float = 0.12
    point_drop_g: float = 40.0
    active_travel_km: float = 2.0
    car_g_per_km: float = 160.0
    car_trip_share: float = 0.5

    def home_delivery(self) -> int:
        return round(self.home_drop_g * (1 + self.failed_attempt_rate))

    def collection(self, distance_km: float) -> int:
        trip = 0.0
        if distance_km > self.active_travel_km:
            trip = 2 * distance_km * self.car_g_per_km * self.car_trip_share
        return round(self.point_drop_g + trip)


CO2 = Co2Model()


@dataclass(frozen=True)
class FulfilmentOption:
    kind: str
    location: Location | None
    distance_km: float | None
    price: Decimal
    currency: str
    co2_grams: int


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude: float, longitude: float, radius_km: float) -> Q:
    """Every point within `radius_km` lies in this box (spherical-cap bounds, padded by the
    columns' precision); across the antimeridian it is two boxes, around a pole a band of latitude."""
    angle = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(angle) + COORDINATE_STEP
    lat_min, lat_max = latitude - dlat, latitude + dlat
    box = Q(latitude__gte=lat_min, latitude__lte=lat_max)
    if lat_max >= 90 or lat_min <= -90:
        return box
    dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(latitude))))) + COORDINATE_STEP
    lon_min, lon_max = longitude - dlon, longitude + dlon
    if lon_min < -180:
        return box & (Q(longitude__gte=lon_min + 360) | Q(longitude__lte=lon_max))
    if lon_max > 180:
        return box & (Q(longitude__gte=lon_min) | Q(longitude__lte=lon_max - 360))
    return box & Q(longitude__gte=lon_min, longitude__lte=lon_max)


def _haversine_term(latitude: float, longitude: float):
    """sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2) in SQL: grows with the distance, so it orders and
    cuts like it, without the arcsine."""
    phi = Radians(Cast("latitude", FloatField()))
    lam = Radians(Cast("longitude", FloatField()))
    phi0, lam0 = math.radians(latitude), math.radians(longitude)
    return ExpressionWrapper(
        Power(Sin((phi - Value(phi0)) / Value(2.0)), 2)
        + Value(math.cos(phi0)) * Cos(phi) * Power(Sin((lam - Value(lam0)) / Value(2.0)), 2),
        output_field=FloatField(),
    )


def nearby_points(
    *, latitude: float, longitude: float, radius_km: float, limit: int, kinds=POINT_KINDS
) -> list[Location]:
    """Active locations of `kinds` (default: lockers, pickup points and stores) within the radius:
    the `limit` nearest of each kind, for 24-hour and other points apart. One query."""
    term = _haversine_term(latitude, longitude)
    cut = math.sin(radius_km / (2 * EARTH_RADIUS_KM)) ** 2
    return list(
        Location.objects.filter(bounding_box(latitude, longitude, radius_km), is_active=True, kind__in=list(kinds))
        .annotate(term=term)
        .filter(term__lte=cut)
        .annotate(nearness=Window(RowNumber(), partition_by=[F("kind"), F("open_24h")], order_by=[F("term"), F("id")]))
        .filter(nearness__lte=limit)
        .order_by()
        .only(
            "id",
            "code",
            "name",
            "kind",
            "address_line1",
            "address_line2",
            "postcode",
            "city",
            "country",
            "latitude",
            "longitude",
            "open_24h",
            "opening_hours",
            "time_zone",
        )
    )


def _group(location: Location) -> int:
    if location.kind == LocationKind.LOCKER and location.open_24h:
        return 0
    if location.kind in (LocationKind.LOCKER, LocationKind.PUDO):
        return 1
    return 2


def home_delivery_price(order_value: Decimal, currency: str) -> Decimal:
    free = order_value >= settings.ORDERS_FREE_DELIVERY_FROM
    return quantize(Decimal("0") if free else settings.ORDERS_SHIPPING_FEE, currency)


def fulfilment_options(
    *,
    latitude: Decimal,
    longitude: Decimal,
    order_value: Decimal,
    currency: str = PRICE_CURRENCY,
    radius_km: Decimal = Decimal("25"),
    limit: int = 5,
) -> list[FulfilmentOption]:
    """The options for an order of `order_value` delivered around (latitude, longitude), ranked.
    Collecting is free; home delivery costs ORDERS_SHIPPING_FEE below ORDERS_FREE_DELIVERY_FROM."""
    lat, lon = float(latitude), float(longitude)
    located = [
        (location, haversine_km(lat, lon, float(location.latitude), float(location.longitude)))
        for location in nearby_points(latitude=lat, longitude=lon, radius_km=float(radius_km), limit=limit)
    ]
    located.sort(key=lambda pair: (_group(pair[0]), pair[1], pair[0].pk))
    taken = dict.fromkeys(POINT_KINDS.values(), 0)
    options = []
    free = quantize(Decimal("0"), currency)
    for location, distance in located:
        kind = POINT_KINDS[location.kind]
        if taken[kind] == limit:
            continue
        taken[kind] += 1
        options.append(FulfilmentOption(kind, location, round(distance, 1), free, currency, CO2.collection(distance)))
    options.append(
        FulfilmentOption(
            OptionKind.HOME_DELIVERY,
            None,
            None,
            home_delivery_price(order_value, currency),
            currency,
            CO2.home_delivery(),
        )
    )
    return options
