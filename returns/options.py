"""Return options: how a customer near (latitude, longitude) can send something back, nearest
and most sustainable first.

Drop-offs near the customer come first: they ride on the retailer's and carriers' van rounds, so
they cost the parcel a share of a stop plus the customer's trip (`orders.fulfillment.Co2Model.
collection`), ranked by that estimate, then by distance; at equal figures a label-free drop-off (no
printer, no label) before a store. Then a carrier label (to any of the carrier's points: the trip
is unknown, so it cannot be ranked among the known ones), and last a carrier collecting at home,
a van drop of its own (`Co2Model.home_delivery`).
"""

from dataclasses import dataclass

from core.choices import LocationKind
from core.models import Location
from orders.fulfillment import CO2, haversine_km, nearby_points
from returns.choices import ReturnMethod

METHOD_FOR_KIND = {
    LocationKind.PUDO: ReturnMethod.PUDO_DROP_OFF,
    LocationKind.LOCKER: ReturnMethod.PUDO_DROP_OFF,
    LocationKind.KIOSK: ReturnMethod.KIOSK_DROP_OFF,
    LocationKind.STORE: ReturnMethod.STORE_DROP_OFF,
    LocationKind.RETURNS_CENTRE: ReturnMethod.STORE_DROP_OFF,
}
# (group, tie-break at equal CO2): drop-offs, then a label, then a collection
RANK = {
    ReturnMethod.PUDO_DROP_OFF: (0, 0),
    ReturnMethod.KIOSK_DROP_OFF: (0, 0),
    ReturnMethod.STORE_DROP_OFF: (0, 1),
    ReturnMethod.CARRIER_LABEL: (1, 0),
    ReturnMethod.CARRIER_COLLECTION: (2, 0),
}


@dataclass(frozen=True)
class ReturnOption:
    method: str
    location: Location | None
    distance_km: float | None
    label_free: bool
    co2_grams: int


def return_options(*, latitude, longitude, radius_km=25, limit: int = 5) -> list[ReturnOption]:
    lat, lon = float(latitude), float(longitude)
    options = []
    for location in nearby_points(
        latitude=lat, longitude=lon, radius_km=float(radius_km), limit=limit, kinds=METHOD_FOR_KIND
    ):
        distance = haversine_km(lat, lon, float(location.latitude), float(location.longitude))
        method = METHOD_FOR_KIND[location.kind]
        options.append(
            ReturnOption(
                method,
                location,
                round(distance, 1),
                method in (ReturnMethod.PUDO_DROP_OFF, ReturnMethod.KIOSK_DROP_OFF),
                CO2.collection(distance),
            )
        )
    options.append(ReturnOption(ReturnMethod.CARRIER_LABEL, None, None, False, CO2.collection(0)))
    options.append(ReturnOption(ReturnMethod.CARRIER_COLLECTION, None, None, False, CO2.home_delivery()))
    options.sort(
        key=lambda o: (
            RANK[o.method][0],
            o.co2_grams,
            RANK[o.method][1],
            o.distance_km if o.distance_km is not None else float("inf"),
            o.location.pk if o.location else 0,
        )
    )
    return options
