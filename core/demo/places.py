"""Where the retailer trades: stores, a distribution and service centre, a returns centre, parcel
lockers, pickup points and a kiosk in the Netherlands and Belgium."""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from core.choices import LocationKind
from core.demo.writer import ensure
from core.models import Location

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_ZONES = {"NL": "Europe/Amsterdam", "BE": "Europe/Brussels"}
NL_STORE_HOURS = "mon 11:00-18:00; tue-fri 09:30-18:00; thu 09:30-21:00; sat 09:30-17:30; sun 12:00-17:00"
BE_STORE_HOURS = "mon-sat 10:00-18:30; fri 10:00-20:00"
ALL_DAY = "mon-sun 00:00-23:59"


@dataclass(frozen=True)
class LocationSpec:
    code: str
    name: str
    kind: str
    address: str
    postcode: str
    city: str
    region: str
    country: str
    latitude: str
    longitude: str
    phone: str
    hours: str
    open_24h: bool = False


# fmt: off
LOCATIONS = [
    LocationSpec("ST-AMS", "Ravelijn Amsterdam Zuid", LocationKind.STORE, "Beethovenstraat 112", "1077 JL",
                 "Amsterdam", "Noord-Holland", "NL", "52.345100", "4.875600", "+31205301120", NL_STORE_HOURS),
    LocationSpec("ST-UTR", "Ravelijn Utrecht Leidsche Rijn", LocationKind.STORE, "Berlijnplein 10", "3541 CM",
                 "Utrecht", "Utrecht", "NL", "52.099700", "5.064600", "+31302041100", NL_STORE_HOURS),
    LocationSpec("ST-RTD", "Ravelijn Rotterdam Alexandrium", LocationKind.STORE, "Watermanweg 52", "3067 GA",
                 "Rotterdam", "Zuid-Holland", "NL", "51.952300", "4.553000", "+31104210520", NL_STORE_HOURS),
    LocationSpec("ST-EHV", "Ravelijn Eindhoven Centrum", LocationKind.STORE, "Piazza 12", "5611 AE", "Eindhoven",
                 "Noord-Brabant", "NL", "51.439700", "5.477800", "+31402130120", NL_STORE_HOURS),
    LocationSpec("ST-ANR", "Ravelijn Antwerpen Meir", LocationKind.STORE, "Meir 78", "2000", "Antwerpen", "Antwerpen",
                 "BE", "51.218100", "4.409600", "+3232040780", BE_STORE_HOURS),
    LocationSpec("ST-GNT", "Ravelijn Gent Veldstraat", LocationKind.STORE, "Veldstraat 55", "9000", "Gent",
                 "Oost-Vlaanderen", "BE", "51.051700", "3.722300", "+3292040550", BE_STORE_HOURS),
    LocationSpec("ST-BRU", "Ravelijn Brussel Woluwe", LocationKind.STORE, "Boulevard de la Woluwe 70", "1200",
                 "Woluwe-Saint-Lambert", "Brussels Hoofdstedelijk Gewest", "BE", "50.846600", "4.433100",
                 "+3227040700", BE_STORE_HOURS),
    LocationSpec("WH-TLB", "Ravelijn Distribution & Service Centre Tilburg", LocationKind.WAREHOUSE,
                 "Kraaivenstraat 21", "5048 AB", "Tilburg", "Noord-Brabant", "NL", "51.583900", "5.053600",
                 "+31135300210", "mon-fri 06:00-22:00; sat 07:00-15:00"),
    LocationSpec("RC-VNL", "Ravelijn Returns Centre Venlo", LocationKind.RETURNS_CENTRE, "Celsiusweg 15", "5928 PR",
                 "Venlo", "Limburg", "NL", "51.387600", "6.126400", "+31773200150", "mon-fri 08:00-17:00"),
    LocationSpec("LK-AMS-CS", "Ravelijn Locker Amsterdam Centraal", LocationKind.LOCKER, "Stationsplein 15",
                 "1012 AB", "Amsterdam", "Noord-Holland", "NL", "52.378900", "4.900300", "", ALL_DAY, open_24h=True),
    LocationSpec("LK-UTR-CS", "Ravelijn Locker Utrecht Centraal", LocationKind.LOCKER, "Stationshal 12", "3511 CE",
                 "Utrecht", "Utrecht", "NL", "52.089400", "5.110000", "", ALL_DAY, open_24h=True),
    LocationSpec("LK-RTD-ZP", "Ravelijn Locker Rotterdam Zuidplein", LocationKind.LOCKER, "Zuidplein 120", "3083 CW",
                 "Rotterdam", "Zuid-Holland", "NL", "51.886900", "4.488900", "",
                 "mon-sat 08:00-21:00; sun 10:00-19:00"),
    LocationSpec("LK-ANR-BER", "Ravelijn Locker Antwerpen-Berchem", LocationKind.LOCKER,
                 "Burgemeester Ryckaertplein 1", "2600", "Berchem", "Antwerpen", "BE", "51.199400", "4.432300", "",
                 ALL_DAY, open_24h=True),
    LocationSpec("LK-GNT-DAM", "Ravelijn Locker Gent-Dampoort", LocationKind.LOCKER, "Oktrooiplein 10", "9000",
                 "Gent", "Oost-Vlaanderen", "BE", "51.056100", "3.740200", "", "mon-sun 05:30-23:30"),
    LocationSpec("PD-HLM-01", "PUDO Tabakszaak Het Hoekje", LocationKind.PUDO, "Kleine Houtstraat 41", "2011 DD",
                 "Haarlem", "Noord-Holland", "NL", "52.378400", "4.637300", "+31235310041",
                 "mon 12:00-18:00; tue-fri 09:00-18:00; sat 09:00-17:00"),
    LocationSpec("PD-GRN-01", "PUDO Fietsenmaker De Spaak", LocationKind.PUDO, "Nieuwe Ebbingestraat 88", "9712 NK",
                 "Groningen", "Groningen", "NL", "53.225400", "6.565000", "+31503120088",
                 "mon-fri 08:30-12:30,13:30-18:00; sat 09:00-16:00"),
    LocationSpec("PD-DHG-01", "PUDO Supermarkt Vers & Co", LocationKind.PUDO, "Weimarstraat 210", "2562 HK",
                 "Den Haag", "Zuid-Holland", "NL", "52.071800", "4.281500", "+31703450210",
                 "mon-sat 08:00-21:00; sun 10:00-20:00"),
    LocationSpec("PD-LEU-01", "PUDO Dagbladhandel De Krant", LocationKind.PUDO, "Tiensestraat 102", "3000", "Leuven",
                 "Vlaams-Brabant", "BE", "50.876800", "4.707900", "+3216200102", "mon-sat 07:00-18:30"),
    LocationSpec("PD-NAM-01", "PUDO Librairie du Marché", LocationKind.PUDO, "Rue de Fer 40", "5000", "Namur",
                 "Namur", "BE", "50.465600", "4.866500", "+3281220040", "tue-sat 09:00-12:30,13:30-18:00"),
    LocationSpec("KS-UTR-HC", "Ravelijn Self-service Kiosk Hoog Catharijne", LocationKind.KIOSK,
                 "Godebaldkwartier 12", "3511 DT", "Utrecht", "Utrecht", "NL", "52.089100", "5.112800", "",
                 "mon-sat 09:00-21:00; sun 11:00-18:00"),
]
# fmt: on
WAREHOUSE = "WH-TLB"
RETURNS_CENTRE = "RC-VNL"


def opening_hours(spec: str) -> dict[str, list[list[str]]]:
    """'mon-fri 09:30-18:00; thu 09:30-21:00' -> {"mon": [["09:30", "18:00"]], ...}; later parts win."""
    days: dict[str, list[list[str]]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        day_range, spans = part.split(" ", 1)
        first, _, last = day_range.partition("-")
        for day in WEEKDAYS[WEEKDAYS.index(first) : WEEKDAYS.index(last or first) + 1]:
            days[day] = [span.split("-") for span in spans.split(",")]
    return {day: days[day] for day in WEEKDAYS if day in days}


def ensure_locations(counts: Counter) -> dict[str, Location]:
    wanted = [
        Location(
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            address_line1=spec.address,
            city=spec.city,
            postcode=spec.postcode,
            region=spec.region,
            country=spec.country,
            latitude=Decimal(spec.latitude),
            longitude=Decimal(spec.longitude),
            opening_hours=opening_hours(spec.hours),
            open_24h=spec.open_24h,
            time_zone=TIME_ZONES[spec.country],
            phone=spec.phone,
        )
        for spec in LOCATIONS
    ]
    return ensure(Location, "code", wanted, counts)
