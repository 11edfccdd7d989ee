"""Load a believable demo retailer: `python manage.py seed_demo [--customers N]`.

Ravelijn is a fictional furniture, home, appliance and fashion chain in the Netherlands and
Belgium: stores, a distribution and service centre, a returns centre, parcel lockers, pickup
points and a kiosk; a catalogue with assembly, installation, training and alteration services;
staff in every role with fixed demo logins; and customers whose orders and touchpoints tell the
stories the associate pages, the admin and the customer app are built to show.

Why it writes with `bulk_create` and not through the services: the services write one row at a
time and queue real notifications, which is right for live traffic and far too slow for 10,000
customers. The rows built here keep the same invariants the services keep (an order's total is
the sum of its lines, one default address per customer, one purchase touchpoint per order).
Products and associate profiles get their audit-history rows in bulk too; customers do not (that
would cost a tenth of the run), so a demo customer's history starts at its first real change.

Why it is safe to run again: every seeded row has a natural key (location code, skill code,
category slug, SKU, e-mail address, the customer's "demo" external id). A run creates only what
is missing, and builds orders and touchpoints only for the customers it creates, so a second run
adds nothing and a run with a larger --customers adds only the new customers. Each customer is
drawn from its own `random.Random` seeded with its demo number, so customer 17 is the same
person however many customers were seeded before. (Customer and order numbers come from the
models' random defaults, as they would in production.)
"""

import gc
import random
import unicodedata
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core.choices import Channel, ContactChannel, LocationKind, Role, TouchpointKind
from core.models import (
    AssociateProfile,
    Category,
    Customer,
    CustomerAddress,
    CustomerExternalId,
    Inventory,
    Location,
    Product,
    Skill,
    Touchpoint,
    User,
)
from orders.models import Order, OrderLine

SEED = 20250601
DEMO_SOURCE = "demo"
APP_CUSTOMER_EXTERNAL_ID = "app-customer"
DEMO_DOMAIN = "demo.aftercare.test"
DEMO_PASSWORD = "aftercare-demo"  # noqa: S105 - a published demo credential, printed by the command
SITE_URL = "http://127.0.0.1:8000/"
BATCH_SIZE = 1000
CUSTOMERS_PER_CHUNK = 2000
HISTORY_DAYS = 120
VAT_RATE = Decimal("0.21")  # standard rate in both NL and BE
CENT = Decimal("0.01")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_ZONES = {"NL": "Europe/Amsterdam", "BE": "Europe/Brussels"}
CHANGE_REASON = "seed_demo"
TIMELINE_CHANNEL = {
    ContactChannel.EMAIL: Channel.EMAIL,
    ContactChannel.SMS: Channel.SMS,
    ContactChannel.PUSH: Channel.APP,
}


def _money(value: Decimal) -> Decimal:
    """Round half-up to the euro cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _eur(value: Decimal) -> str:
    return f"€{value:,.2f}"


def _hours(spec: str) -> dict[str, list[list[str]]]:
    """'mon-fri 09:30-18:00; thu 09:30-21:00' -> {"mon": [["09:30", "18:00"]], ...}; later parts win."""
    days: dict[str, list[list[str]]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        day_range, spans = part.split(" ", 1)
        first, _, last = day_range.partition("-")
        for day in WEEKDAYS[WEEKDAYS.index(first) : WEEKDAYS.index(last or first) + 1]:
            days[day] = [span.split("-") for span in spans.split(",")]
    return {day: days[day] for day in WEEKDAYS if day in days}


def _ascii_slug(text: str) -> str:
    """'Céline Van Damme' -> 'celinevandamme', for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


# --------------------------------------------------------------------------------------------
# The retailer: places, skills, catalogue, staff
# --------------------------------------------------------------------------------------------

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

SKILLS = [
    ("assembly", "Furniture assembly"),
    ("appliance_installation", "Appliance installation"),
    ("appliance_training", "Appliance training"),
    ("tailoring", "Tailoring and alterations"),
    ("kitchen_fitting", "Kitchen fitting"),
    ("upholstery_repair", "Upholstery repair"),
    ("returns_inspection", "Returns inspection and grading"),
]

CATEGORIES = [
    ("sofas", "Sofas & armchairs"),
    ("tables", "Tables & chairs"),
    ("storage", "Wardrobes & storage"),
    ("beds", "Beds & mattresses"),
    ("kitchen-appliances", "Kitchen appliances"),
    ("laundry", "Washing & drying"),
    ("small-appliances", "Small appliances"),
    ("lighting", "Lighting"),
    ("textiles", "Home textiles"),
    ("womenswear", "Womenswear"),
    ("menswear", "Menswear"),
    ("outdoor", "Garden & outdoor"),
]
FURNITURE = {"sofas", "tables", "storage", "beds", "outdoor"}
APPLIANCES = {"kitchen-appliances", "laundry", "small-appliances"}
FASHION = {"womenswear", "menswear"}
# How often each category turns up in a basket.
CATEGORY_WEIGHTS = {
    "sofas": 8,
    "tables": 8,
    "storage": 7,
    "beds": 7,
    "kitchen-appliances": 7,
    "laundry": 6,
    "small-appliances": 8,
    "lighting": 9,
    "textiles": 11,
    "womenswear": 13,
    "menswear": 10,
    "outdoor": 6,
}


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    category: str
    price: str
    installable: bool = False
    trainable: bool = False
    alterable: bool = False
    recyclable: bool = False
    returnable: bool = True
    return_window_days: int = 30
    resale_pct: int = 40


# fmt: off
PRODUCTS = [
    ProductSpec("RV-SOF-1001", "Oslo 3-seat sofa, oat bouclé", "sofas", "1299.00", resale_pct=45),
    ProductSpec("RV-SOF-1002", "Oslo 3-piece modular sofa set, charcoal", "sofas", "2499.00", installable=True,
                resale_pct=45),
    ProductSpec("RV-SOF-1003", "Bergen corner sofa, forest-green velvet", "sofas", "1899.00", installable=True),
    ProductSpec("RV-SOF-1004", "Lund armchair, cognac leather", "sofas", "749.00", resale_pct=50),
    ProductSpec("RV-SOF-1005", "Lund footstool, cognac leather", "sofas", "229.00"),
    ProductSpec("RV-TAB-2001", "Eik extendable dining table 180–240 cm, oak", "tables", "1149.00", installable=True,
                recyclable=True, resale_pct=50),
    ProductSpec("RV-TAB-2002", "Eik dining chairs, oak and linen (set of 2)", "tables", "329.00", installable=True,
                recyclable=True),
    ProductSpec("RV-TAB-2003", "Vik coffee table, smoked oak", "tables", "399.00", installable=True, recyclable=True),
    ProductSpec("RV-TAB-2004", "Studio sit-stand desk 160 cm", "tables", "679.00", installable=True, resale_pct=35),
    ProductSpec("RV-STO-3001", "Fjord 3-door wardrobe with mirror", "storage", "899.00", installable=True,
                recyclable=True, resale_pct=30),
    ProductSpec("RV-STO-3002", "Fjord chest of 6 drawers, white", "storage", "449.00", installable=True,
                recyclable=True, resale_pct=30),
    ProductSpec("RV-STO-3003", "Kade wall-mounted bookcase, walnut", "storage", "589.00", installable=True),
    ProductSpec("RV-BED-4001", "Nord box-spring bed 180×200, grey", "beds", "1899.00", installable=True,
                recyclable=True, resale_pct=30),
    ProductSpec("RV-BED-4002", "Rust pocket-spring mattress 160×200 (100-night trial)", "beds", "899.00",
                recyclable=True, return_window_days=100, resale_pct=0),
    ProductSpec("RV-BED-4003", "Rust memory-foam pillow", "beds", "59.95", returnable=False, resale_pct=0),
    ProductSpec("RV-BED-4004", "Mees bunk bed with storage steps", "beds", "749.00", installable=True),
    ProductSpec("RV-APP-5001", "Induction hob 80 cm with flex zones", "kitchen-appliances", "949.00",
                installable=True, trainable=True, recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5002", "Built-in combi-steam oven", "kitchen-appliances", "1399.00", installable=True,
                trainable=True, recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5003", "American-style fridge freezer, stainless steel", "kitchen-appliances", "1749.00",
                installable=True, trainable=True, recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5004", "Fully integrated dishwasher 60 cm", "kitchen-appliances", "799.00", installable=True,
                recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5005", "Bean-to-cup espresso machine", "kitchen-appliances", "699.00", trainable=True,
                recyclable=True),
    ProductSpec("RV-LAU-5101", "Washing machine 9 kg, 1400 rpm", "laundry", "749.00", installable=True,
                recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-LAU-5102", "Heat-pump tumble dryer 8 kg", "laundry", "829.00", installable=True, recyclable=True,
                return_window_days=14, resale_pct=35),
    ProductSpec("RV-LAU-5103", "Washer-dryer stacking kit", "laundry", "39.95", resale_pct=20),
    ProductSpec("RV-SMA-5201", "Cordless stick vacuum cleaner", "small-appliances", "399.00", recyclable=True),
    ProductSpec("RV-SMA-5202", "Air fryer XL 6.2 l", "small-appliances", "149.00", recyclable=True),
    ProductSpec("RV-SMA-5203", "Robot vacuum with mopping dock", "small-appliances", "649.00", trainable=True,
                recyclable=True),
    ProductSpec("RV-LIG-6001", "Dune rattan pendant lamp Ø60", "lighting", "179.00", resale_pct=35),
    ProductSpec("RV-LIG-6002", "Halo brass floor lamp", "lighting", "249.00", resale_pct=35),
    ProductSpec("RV-LIG-6003", "Smart LED bulbs E27 (3-pack)", "lighting", "39.95", recyclable=True, resale_pct=20),
    ProductSpec("RV-TEX-7001", "Linen duvet cover set 240×220, sage", "textiles", "129.00", recyclable=True,
                resale_pct=20),
    ProductSpec("RV-TEX-7002", "Made-to-measure velvet curtain (per panel)", "textiles", "189.00", alterable=True,
                returnable=False, resale_pct=0),
    ProductSpec("RV-TEX-7003", "Wool rug 200×300, ivory", "textiles", "599.00"),
    ProductSpec("RV-TEX-7004", "Organic cotton bath towel set", "textiles", "49.95", recyclable=True, resale_pct=15),
    ProductSpec("RV-WOM-8001", "Wool-blend coat, camel", "womenswear", "229.00", alterable=True, resale_pct=25),
    ProductSpec("RV-WOM-8002", "Wide-leg trousers, navy", "womenswear", "79.95", alterable=True, resale_pct=20),
    ProductSpec("RV-WOM-8003", "Silk blouse, ivory", "womenswear", "99.95", alterable=True, resale_pct=20),
    ProductSpec("RV-WOM-8004", "Swimsuit, black", "womenswear", "49.95", returnable=False, resale_pct=0),
    ProductSpec("RV-WOM-8005", "Evening dress, emerald (final sale)", "womenswear", "149.00", alterable=True,
                returnable=False, resale_pct=0),
    ProductSpec("RV-MEN-8101", "Two-piece slim-fit suit, charcoal", "menswear", "399.00", alterable=True,
                resale_pct=25),
    ProductSpec("RV-MEN-8102", "Chinos, stone", "menswear", "69.95", alterable=True, resale_pct=20),
    ProductSpec("RV-MEN-8103", "Merino crew-neck jumper", "menswear", "89.95", recyclable=True, resale_pct=20),
    ProductSpec("RV-MEN-8104", "Oxford shirt, light blue", "menswear", "59.95", alterable=True, resale_pct=15),
    ProductSpec("RV-OUT-9001", "Teak garden dining set with 6 chairs", "outdoor", "1599.00", installable=True,
                resale_pct=45),
    ProductSpec("RV-OUT-9002", "Parasol 3 m with base", "outdoor", "279.00"),
    ProductSpec("RV-OUT-9003", "Capri lounge set (clearance, final sale)", "outdoor", "899.00", installable=True,
                returnable=False, resale_pct=0),
    ProductSpec("RV-OUT-9004", "Gas barbecue with 4 burners", "outdoor", "799.00", installable=True, trainable=True,
                recyclable=True, resale_pct=35),
]
# fmt: on
CATEGORY_OF_SKU = {spec.sku: spec.category for spec in PRODUCTS}


@dataclass(frozen=True)
class UserSpec:
    """A seeded login. `role` empty: the demo customer of the retailer's app."""

    email: str
    first_name: str
    last_name: str
    role: str = ""
    home: str = ""
    skills: tuple[str, ...] = ()
    approval_limit: str = "0.00"
    employee_code: str = ""
    demo_login: bool = False
    is_staff: bool = False
    is_superuser: bool = False


DEMO_ASSOCIATE = f"associate@{DEMO_DOMAIN}"
DEMO_AGENT = f"agent@{DEMO_DOMAIN}"
DEMO_MANAGER = f"manager@{DEMO_DOMAIN}"
DEMO_ADMIN = f"admin@{DEMO_DOMAIN}"
DEMO_CUSTOMER = f"customer@{DEMO_DOMAIN}"

# fmt: off
DEMO_LOGINS = [
    UserSpec(DEMO_ASSOCIATE, "Sanne", "Visser", Role.ASSOCIATE, "ST-AMS",
             ("assembly", "appliance_installation", "appliance_training"), "50.00", "E00001", demo_login=True),
    UserSpec(DEMO_AGENT, "Youssef", "El Amrani", Role.CUSTOMER_SERVICE, WAREHOUSE, (), "100.00", "E00002",
             demo_login=True),
    UserSpec(DEMO_MANAGER, "Pieter", "Bakker", Role.MANAGER, "ST-AMS", ("returns_inspection",), "1000.00", "E00003",
             demo_login=True, is_staff=True),
    UserSpec(DEMO_ADMIN, "Anouk", "de Wit", Role.ADMIN, WAREHOUSE, (), "10000.00", "E00004", demo_login=True,
             is_staff=True, is_superuser=True),
    UserSpec(DEMO_CUSTOMER, "Emma", "de Vries", demo_login=True),
]
# fmt: on

# (first name, last name, role, home, skills): the rest of the team, without a password.
TEAM = [
    ("Daan", "Mulder", Role.ASSOCIATE, "ST-AMS", ("assembly", "kitchen_fitting")),
    ("Fatima", "Benali", Role.ASSOCIATE, "ST-AMS", ("tailoring",)),
    ("Lotte", "Verhoeven", Role.MANAGER, "ST-UTR", ()),
    ("Bram", "de Graaf", Role.ASSOCIATE, "ST-UTR", ("assembly", "appliance_installation")),
    ("Priya", "Sharma", Role.ASSOCIATE, "ST-UTR", ("tailoring", "appliance_training")),
    ("Kees", "van Dijk", Role.MANAGER, "ST-RTD", ()),
    ("Emre", "Yilmaz", Role.ASSOCIATE, "ST-RTD", ("appliance_installation", "kitchen_fitting", "assembly")),
    ("Noor", "Hendriks", Role.ASSOCIATE, "ST-RTD", ("tailoring", "appliance_training")),
    ("Marieke", "Smits", Role.MANAGER, "ST-EHV", ()),
    ("Thijs", "Brouwer", Role.ASSOCIATE, "ST-EHV", ("assembly", "upholstery_repair", "appliance_installation")),
    ("Olena", "Kovalenko", Role.ASSOCIATE, "ST-EHV", ("appliance_training", "tailoring")),
    ("Koen", "Peeters", Role.MANAGER, "ST-ANR", ()),
    ("Lien", "Maes", Role.ASSOCIATE, "ST-ANR", ("tailoring", "appliance_training")),
    ("Arne", "Janssens", Role.ASSOCIATE, "ST-ANR", ("assembly", "appliance_installation")),
    ("Griet", "Van Damme", Role.MANAGER, "ST-GNT", ()),
    ("Seppe", "De Smet", Role.ASSOCIATE, "ST-GNT", ("assembly", "appliance_installation")),
    ("Hanne", "Claeys", Role.ASSOCIATE, "ST-GNT", ("tailoring", "appliance_training")),
    ("Céline", "Dubois", Role.MANAGER, "ST-BRU", ()),
    ("Mathis", "Lambert", Role.ASSOCIATE, "ST-BRU", ("appliance_installation", "kitchen_fitting", "assembly")),
    ("Amélie", "Renard", Role.ASSOCIATE, "ST-BRU", ("tailoring", "appliance_training")),
    ("Ingrid", "Dekker", Role.CUSTOMER_SERVICE, WAREHOUSE, ()),
    ("Wout", "Mertens", Role.CUSTOMER_SERVICE, WAREHOUSE, ()),
    ("Jesse", "Kuipers", Role.ASSOCIATE, WAREHOUSE, ("assembly",)),
    ("Agnieszka", "Nowak", Role.ASSOCIATE, RETURNS_CENTRE, ("returns_inspection",)),
    ("Ruben", "Postma", Role.MANAGER, RETURNS_CENTRE, ("returns_inspection",)),
]
APPROVAL_LIMITS = {Role.ASSOCIATE: "50.00", Role.CUSTOMER_SERVICE: "100.00", Role.MANAGER: "1000.00"}


def _user_specs() -> list[UserSpec]:
    team = [
        UserSpec(
            email=f"{_ascii_slug(first)}.{_ascii_slug(last)}@{DEMO_DOMAIN}",
            first_name=first,
            last_name=last,
            role=role,
            home=home,
            skills=skills,
            approval_limit=APPROVAL_LIMITS[role],
            employee_code=f"E{101 + i:05d}",
            is_staff=role == Role.MANAGER,
        )
        for i, (first, last, role, home, skills) in enumerate(TEAM)
    ]
    return [*DEMO_LOGINS, *team]


# --------------------------------------------------------------------------------------------
# The customers: where they live and what they are called
# --------------------------------------------------------------------------------------------

NAME_POOLS = {
    "nl": (
        "Emma Sophie Julia Anna Tess Zoë Sara Lotte Fleur Sanne Maartje Marieke Annelies Ingrid Noa Evi "
        "Noah Daan Sem Lucas Levi Finn Bram Jesse Thijs Joris Ruben Wouter Henk Kees Pieter Bas Jeroen Sander",
        "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Visser|Smit|Meijer|de Boer|Mulder|de Groot|Bos|Vos|"
        "Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|de Graaf|van der Meer|Kok|Verhoeven|"
        "Postma|Huisman|Kuipers|Koster|Prins|van Beek",
    ),
    "vl": (
        "Lore Marie Elise Noor Lien Hanne Griet An Fien Ellen Laura Nina Wout Arne Jonas Seppe Lars Ward Jef Koen "
        "Stijn Pieter-Jan Bart Dries Tom Jens",
        "Peeters|Janssens|Maes|Jacobs|Mertens|Willems|Claes|Goossens|Wouters|De Smet|Vermeulen|Van Damme|Hermans|"
        "Michiels|Desmet|Van de Velde|Verstraete|Claeys|De Backer|Segers|Aerts|Verhaegen|Lemmens|Van Acker",
    ),
    "fr": (
        "Camille Louise Chloé Manon Léa Amélie Céline Juliette Margaux Pauline Hugo Louis Arthur Nathan Mathis Théo "
        "Gilles Benoît Maxime Antoine Olivier Quentin",
        "Dubois|Lambert|Dupont|Martin|Simon|Leclercq|Renard|Lejeune|Denis|Laurent|Lemaire|Fontaine|Gérard|Collard|"
        "Mathieu|Dumont|François|Leroy|Charlier|Hubert",
    ),
    "mix": (
        "Mohammed Yasmina Fatima Ayoub Emre Elif Zeynep Priya Wei Olena Kacper Agnieszka Bilal Samira Yusuf Aylin "
        "Sofia Mateusz Ravi Mei",
        "El Amrani|Yilmaz|Bouzid|Kaya|Öztürk|Benali|Nowak|Kowalski|Sharma|Chen|Kovalenko|Haddou|Demir|Aydın|"
        "El Idrissi|Wiśniewska|Tran|Nguyen|Achahbar|Şahin",
    ),
    "intl": (
        "Oliver Charlotte James Hannah Lukas Giulia Mateo Aisha Liam Freya Ethan Ingrid Marco Clara",
        "Smith|Müller|Rossi|García|Murphy|Novak|Patel|Andersson|O'Brien|Schneider|Fernandes|Kelly|Wagner|Bianchi",
    ),
}
POOL_LANGUAGES = {"nl": "nl", "vl": "nl", "fr": "fr", "intl": "en"}


@dataclass(frozen=True)
class City:
    name: str
    region: str
    country: str
    latitude: float
    longitude: float
    store: str
    weight: int
    postcodes: tuple[str, ...]
    streets: tuple[str, ...]
    pools: tuple[tuple[str, int], ...]


NL_PEOPLE = (("nl", 74), ("mix", 20), ("intl", 6))
FLEMISH_PEOPLE = (("vl", 82), ("mix", 14), ("intl", 4))
WALLOON_PEOPLE = (("fr", 85), ("mix", 12), ("intl", 3))
BRUSSELS_PEOPLE = (("fr", 45), ("vl", 18), ("mix", 27), ("intl", 10))

# fmt: off
CITIES = [
    City("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041, "ST-AMS", 18,
         ("1013", "1017", "1053", "1054", "1072", "1073", "1091", "1094"),
         ("Overtoom", "Ferdinand Bolstraat", "Javastraat", "Kinkerstraat", "Van Woustraat", "Czaar Peterstraat",
          "Admiraal de Ruijterweg", "Rijnstraat"),
         NL_PEOPLE),
    City("Haarlem", "Noord-Holland", "NL", 52.3874, 4.6462, "ST-AMS", 5, ("2011", "2013", "2023", "2031"),
         ("Gierstraat", "Kleverparkweg", "Rijksstraatweg", "Zijlweg"), NL_PEOPLE),
    City("Utrecht", "Utrecht", "NL", 52.0907, 5.1214, "ST-UTR", 11, ("3511", "3514", "3521", "3531", "3572"),
         ("Amsterdamsestraatweg", "Biltstraat", "Twijnstraat", "Kanaalweg", "Burgemeester Reigerstraat"), NL_PEOPLE),
    City("Amersfoort", "Utrecht", "NL", 52.1561, 5.3878, "ST-UTR", 4, ("3811", "3814", "3818"),
         ("Leusderweg", "Kamp", "Soesterweg"), NL_PEOPLE),
    City("Rotterdam", "Zuid-Holland", "NL", 51.9244, 4.4777, "ST-RTD", 13, ("3012", "3014", "3021", "3037", "3071"),
         ("Nieuwe Binnenweg", "Zwart Janstraat", "Kleiweg", "Beijerlandselaan", "Oudedijk"), NL_PEOPLE),
    City("Den Haag", "Zuid-Holland", "NL", 52.0705, 4.3007, "ST-RTD", 10, ("2514", "2517", "2562", "2582"),
         ("Frederik Hendriklaan", "Weimarstraat", "Laan van Meerdervoort", "Theresiastraat"), NL_PEOPLE),
    City("Leiden", "Zuid-Holland", "NL", 52.1601, 4.497, "ST-RTD", 3, ("2311", "2313", "2316"),
         ("Haarlemmerstraat", "Breestraat", "Hooigracht"), NL_PEOPLE),
    City("Eindhoven", "Noord-Brabant", "NL", 51.4416, 5.4697, "ST-EHV", 7, ("5611", "5614", "5622", "5643"),
         ("Kruisstraat", "Hoogstraat", "Tongelresestraat", "Stratumsedijk"), NL_PEOPLE),
    City("Tilburg", "Noord-Brabant", "NL", 51.5555, 5.0913, "ST-EHV", 5, ("5011", "5014", "5038"),
         ("Korte Heuvel", "Piusstraat", "Ringbaan-West"), NL_PEOPLE),
    City("Breda", "Noord-Brabant", "NL", 51.5719, 4.7683, "ST-EHV", 4, ("4811", "4818", "4834"),
         ("Haagweg", "Ginnekenweg", "Baronielaan"), NL_PEOPLE),
    City("Nijmegen", "Gelderland", "NL", 51.8126, 5.8372, "ST-EHV", 4, ("6511", "6521", "6524"),
         ("Hertogstraat", "Groesbeekseweg", "Sint Annastraat"), NL_PEOPLE),
    City("Groningen", "Groningen", "NL", 53.2194, 6.5665, "ST-UTR", 4, ("9711", "9712", "9725"),
         ("Oosterstraat", "Nieuwe Ebbingestraat", "Helperzoom"), NL_PEOPLE),
    City("Antwerpen", "Antwerpen", "BE", 51.2194, 4.4025, "ST-ANR", 9, ("2000", "2018", "2060", "2140", "2600"),
         ("Kerkstraat", "Mechelsesteenweg", "Turnhoutsebaan", "De Coninckplein", "Grote Steenweg"), FLEMISH_PEOPLE),
    City("Mechelen", "Antwerpen", "BE", 51.0259, 4.4776, "ST-ANR", 3, ("2800",),
         ("Bruul", "Hanswijkstraat", "Adegemstraat"), FLEMISH_PEOPLE),
    City("Gent", "Oost-Vlaanderen", "BE", 51.0543, 3.7174, "ST-GNT", 7, ("9000", "9030", "9040", "9050"),
         ("Overpoortstraat", "Kortrijksesteenweg", "Brusselsesteenweg", "Sleepstraat"), FLEMISH_PEOPLE),
    City("Brugge", "West-Vlaanderen", "BE", 51.2093, 3.2247, "ST-GNT", 3, ("8000", "8200", "8310"),
         ("Langestraat", "Smedenstraat", "Gistelse Steenweg"), FLEMISH_PEOPLE),
    City("Leuven", "Vlaams-Brabant", "BE", 50.8798, 4.7005, "ST-BRU", 3, ("3000", "3001", "3010"),
         ("Naamsestraat", "Tiensestraat", "Diestsesteenweg"), FLEMISH_PEOPLE),
    City("Brussel", "Brussels Hoofdstedelijk Gewest", "BE", 50.8503, 4.3517, "ST-BRU", 8,
         ("1000", "1030", "1040", "1050", "1060", "1180"),
         ("Rue Antoine Dansaert", "Chaussée d'Ixelles", "Avenue Louise", "Rue du Bailli", "Chaussée de Waterloo"),
         BRUSSELS_PEOPLE),
    City("Namur", "Namur", "BE", 50.4674, 4.872, "ST-BRU", 2, ("5000", "5100"),
         ("Rue de Fer", "Chaussée de Louvain", "Avenue de la Plante"), WALLOON_PEOPLE),
    City("Liège", "Liège", "BE", 50.6326, 5.5797, "ST-BRU", 3, ("4000", "4020", "4030"),
         ("Rue Saint-Gilles", "Boulevard d'Avroy", "Rue Féronstrée"), WALLOON_PEOPLE),
]
# fmt: on
CITY_WEIGHTS = [c.weight for c in CITIES]
NL_POSTCODE_LETTERS = "ABCEGHJKLMNPRTVWXZ"
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# --------------------------------------------------------------------------------------------
# What happens after a purchase: the wording of the timeline
# --------------------------------------------------------------------------------------------

TRAINING_TITLES = {
    "kitchen-appliances": ("Cooking with induction and steam", "Getting the most from your new appliance"),
    "small-appliances": ("Espresso at home", "Smart cleaning: set-up and schedules"),
    "outdoor": ("Barbecue masterclass",),
}
ALTERATIONS = {
    "womenswear": ("hemmed 3 cm", "sleeves shortened 2 cm", "waist taken in 2 cm", "hem raised 4 cm"),
    "menswear": ("trousers hemmed 3 cm", "sleeves shortened 1.5 cm", "jacket taken in at the waist"),
    "textiles": ("shortened 6 cm to fit the rail", "hooks moved for a higher drop"),
}
RETURN_REASONS = {
    "fashion": ("too small", "too large", "colour differs from the photos", "changed my mind", "fabric feels thin"),
    "other": (
        "doesn't fit the room",
        "colour differs from the photos",
        "changed my mind",
        "arrived damaged",
        "found a better fit elsewhere",
    ),
}
COMPLAINTS = {
    "delivery": (
        "delivery arrived 3 hours outside the time slot",
        "scratch on the frame at delivery",
        "driver left the parcel with a neighbour without a note",
        "wrong colour delivered",
        "delivery rescheduled twice without warning",
    ),
    "installation": (
        "installer did not show up",
        "installer left packaging behind",
        "leaking connection after install",
    ),
    "general": (
        "refund took longer than promised",
        "price dropped a week after purchase",
        "missing screws in the assembly kit",
        "no reply to an e-mail for 5 days",
    ),
}
RESOLUTIONS = (
    "apologised and arranged a technician visit",
    "replacement part sent by express",
    "re-delivery booked at a time that suits the customer",
    "price difference refunded",
    "explained the refund timeline and escalated to finance",
)
REVIEW_QUOTES = {
    5: ("Exactly as pictured, love it", "Great quality for the price", "Fantastic service from start to finish"),
    4: ("Very happy, delivery took a bit long", "Well made and looks great", "Good value; set-up was fiddly"),
    3: ("Does the job", "Nice, but darker than in the photos", "OK quality, expected more"),
    2: ("Disappointing after a few weeks", "Quality could be better for the price"),
    1: ("Broke within a month", "Not as described"),
}
SURVEY_COMMENTS = ("Friendly staff", "Quick delivery", "Clear communication", "Took too long", "Easy checkout", "")
TESTIMONIALS = (
    "The team went out of their way to find the right sofa for our small flat.",
    "Installer was on time, tidy and explained everything twice.",
    "Best after-sales service I have had from a furniture shop.",
)


# --------------------------------------------------------------------------------------------
# Reference data: created once, found again by natural key
# --------------------------------------------------------------------------------------------


def _bulk_create(model, objs: list, *, history: bool = False) -> None:
    if not objs:
        return
    if history:
        bulk_create_with_history(objs, model, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON)
    else:
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)


def _ensure(model, key: str, wanted: list, counts: Counter, *, history: bool = False) -> dict:
    """Create the rows of `wanted` whose `key` is not in the table yet; return every wanted row by key."""
    existing = model.objects.in_bulk([getattr(obj, key) for obj in wanted], field_name=key)
    missing = [obj for obj in wanted if getattr(obj, key) not in existing]
    _bulk_create(model, missing, history=history)
    counts[str(model._meta.verbose_name_plural)] += len(missing)
    return {**existing, **{getattr(obj, key): obj for obj in missing}}


def _ensure_locations(counts: Counter) -> dict[str, Location]:
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
            opening_hours=_hours(spec.hours),
            open_24h=spec.open_24h,
            time_zone=TIME_ZONES[spec.country],
            phone=spec.phone,
        )
        for spec in LOCATIONS
    ]
    return _ensure(Location, "code", wanted, counts)


def _ensure_catalogue(counts: Counter) -> tuple[dict[str, Skill], dict[str, Product]]:
    skills = _ensure(Skill, "code", [Skill(code=code, name=name) for code, name in SKILLS], counts)
    categories = _ensure(Category, "slug", [Category(slug=slug, name=name) for slug, name in CATEGORIES], counts)
    wanted = [
        Product(
            sku=spec.sku,
            name=spec.name,
            category=categories[spec.category],
            price=Decimal(spec.price),
            returnable=spec.returnable,
            return_window_days=spec.return_window_days if spec.returnable else 0,
            installable=spec.installable,
            trainable=spec.trainable,
            alterable=spec.alterable,
            recyclable=spec.recyclable,
            resale_value=_money(Decimal(spec.price) * spec.resale_pct / 100) if spec.returnable else Decimal("0.00"),
        )
        for spec in PRODUCTS
    ]
    return skills, _ensure(Product, "sku", wanted, counts, history=True)


def _ensure_inventory(products: dict[str, Product], locations: dict[str, Location], counts: Counter) -> None:
    """Stock of every product at every store and at the distribution centre."""
    stocked = [loc for loc in locations.values() if loc.kind in (LocationKind.STORE, LocationKind.WAREHOUSE)]
    have = set(
        Inventory.objects.filter(product__in=products.values(), location__in=stocked).values_list(
            "product_id", "location_id"
        )
    )
    rows = []
    for product in products.values():
        for location in stocked:
            if (product.pk, location.pk) in have:
                continue
            rng = random.Random(f"{SEED}:stock:{product.sku}:{location.code}")
            on_hand = rng.randint(40, 250) if location.kind == LocationKind.WAREHOUSE else rng.randint(0, 14)
            rows.append(
                Inventory(product=product, location=location, on_hand=on_hand, reserved=rng.randint(0, on_hand // 4))
            )
    _bulk_create(Inventory, rows)
    counts["inventory rows"] += len(rows)


def _ensure_users(locations: dict[str, Location], skills: dict[str, Skill], counts: Counter) -> dict[str, User]:
    """Logins for every role and the demo customer; the rest of the team cannot sign in."""
    specs = _user_specs()
    existing = User.objects.in_bulk([s.email for s in specs], field_name="email")
    missing = [s for s in specs if s.email not in existing]
    # Hashing is deliberately slow: hash the one shared demo password once, not per user.
    demo_hash = make_password(DEMO_PASSWORD) if any(s.demo_login for s in missing) else ""
    created = [
        User(
            username=spec.email,
            email=spec.email,
            first_name=spec.first_name,
            last_name=spec.last_name,
            password=demo_hash if spec.demo_login else make_password(None),
            is_staff=spec.is_staff or spec.is_superuser,
            is_superuser=spec.is_superuser,
        )
        for spec in missing
    ]
    _bulk_create(User, created)
    counts["users"] += len(created)
    users = {**existing, **{u.email: u for u in created}}
    _ensure_roles(specs, users)
    _ensure_profiles(specs, users, locations, skills, counts)
    _ensure_email_addresses(users, counts)
    return users


def _ensure_roles(specs: list[UserSpec], users: dict[str, User]) -> None:
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    missing_groups = {s.role for s in specs if s.role} - groups.keys()
    if missing_groups:
        raise CommandError(f"Role groups {sorted(missing_groups)} are missing; run `manage.py migrate` first.")
    Membership = User.groups.through
    Membership.objects.bulk_create(
        [Membership(user_id=users[s.email].pk, group_id=groups[s.role].pk) for s in specs if s.role],
        ignore_conflicts=True,
    )


def _ensure_profiles(specs, users, locations, skills, counts: Counter) -> None:
    staff = [s for s in specs if s.role]
    have = set(
        AssociateProfile.objects.filter(user__in=[users[s.email] for s in staff]).values_list("user_id", flat=True)
    )
    new = [s for s in staff if users[s.email].pk not in have]
    profiles = [
        AssociateProfile(
            user=users[s.email],
            employee_code=s.employee_code,
            home_location=locations[s.home],
            approval_limit=Decimal(s.approval_limit),
        )
        for s in new
    ]
    _bulk_create(AssociateProfile, profiles, history=True)
    Through = AssociateProfile.skills.through
    Through.objects.bulk_create(
        [
            Through(associateprofile_id=profile.pk, skill_id=skills[code].pk)
            for spec, profile in zip(new, profiles, strict=True)
            for code in spec.skills
        ]
    )
    counts["associate profiles"] += len(profiles)


def _ensure_email_addresses(users: dict[str, User], counts: Counter) -> None:
    """allauth signs in by its EmailAddress rows: one verified, primary address per seeded login."""
    have = set(EmailAddress.objects.filter(user__in=users.values()).values_list("user_id", flat=True))
    rows = [
        EmailAddress(user=user, email=user.email.lower(), verified=True, primary=True)
        for user in users.values()
        if user.pk not in have
    ]
    _bulk_create(EmailAddress, rows)
    counts["e-mail addresses"] += len(rows)


# --------------------------------------------------------------------------------------------
# The world a customer's story is drawn from
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    """Everything the customer builders read, loaded once so that building rows needs no query."""

    now: datetime
    locations: dict[str, Location]
    products: dict[str, Product]
    categories: dict[str, list[Product]]
    users: dict[str, User]
    staff_with_skill: dict[tuple[str, str], list[User]]
    staff_at: dict[str, list[User]]
    agents: list[User]
    pickup_points: dict[str, list[Location]]
    order_type: ContentType
    zones: dict[str, ZoneInfo] = field(default_factory=dict)

    def zone(self, name: str) -> ZoneInfo:
        if name not in self.zones:
            self.zones[name] = ZoneInfo(name)
        return self.zones[name]

    def associate_for(self, rng: random.Random, store: str, skill: str = "") -> User | None:
        pool = self.staff_with_skill.get((store, skill)) if skill else None
        pool = pool or self.staff_at.get(store) or []
        return rng.choice(pool) if pool else None


def _build_world(
    now: datetime, locations: dict[str, Location], products: dict[str, Product], users: dict[str, User]
) -> World:
    by_category: dict[str, list[Product]] = defaultdict(list)
    for spec in PRODUCTS:
        by_category[spec.category].append(products[spec.sku])
    with_skill: dict[tuple[str, str], list[User]] = defaultdict(list)
    staff_at: dict[str, list[User]] = defaultdict(list)
    specs = _user_specs()
    for spec in specs:
        if spec.role in (Role.ASSOCIATE, Role.MANAGER):
            staff_at[spec.home].append(users[spec.email])
        for skill in spec.skills:
            with_skill[(spec.home, skill)].append(users[spec.email])
    pickup_points: dict[str, list[Location]] = defaultdict(list)
    for loc in locations.values():
        if loc.kind in (LocationKind.LOCKER, LocationKind.PUDO, LocationKind.KIOSK):
            pickup_points[loc.country].append(loc)
    return World(
        now=now,
        locations=locations,
        products=products,
        categories=by_category,
        users=users,
        staff_with_skill=with_skill,
        staff_at=staff_at,
        agents=[users[s.email] for s in specs if s.role == Role.CUSTOMER_SERVICE],
        pickup_points=pickup_points,
        order_type=ContentType.objects.get_for_model(Order),
    )


@dataclass
class Batch:
    """Unsaved rows for a chunk of customers, written in dependency order by `_write_batch`."""

    customers: list[Customer] = field(default_factory=list)
    addresses: list[CustomerAddress] = field(default_factory=list)
    external_ids: list[CustomerExternalId] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    touchpoints: list[Touchpoint] = field(default_factory=list)
    purchases: list[tuple[Touchpoint, Order]] = field(default_factory=list)


def _write_batch(batch: Batch, counts: Counter) -> None:
    """Parents first: bulk_create fills their primary keys, which the children's foreign keys pick up."""
    _bulk_create(Customer, batch.customers)
    _bulk_create(CustomerAddress, batch.addresses)
    _bulk_create(CustomerExternalId, batch.external_ids)
    _bulk_create(Order, batch.orders)
    _bulk_create(OrderLine, batch.lines)
    for touchpoint, order in batch.purchases:
        touchpoint.subject_id = order.pk
    _bulk_create(Touchpoint, batch.touchpoints)
    counts["customers"] += len(batch.customers)
    counts["customer addresses"] += len(batch.addresses)
    counts["orders"] += len(batch.orders)
    counts["order lines"] += len(batch.lines)
    counts["touchpoints"] += len(batch.touchpoints)


SAVED_LINKS = ("location", "associate", "product", "subject_type")


def _ids(links: dict) -> dict:
    """location=<Location> -> location_id=pk: linking saved rows by id is much cheaper, and this runs 60,000 times."""
    ids = {name: value for name, value in links.items() if name not in SAVED_LINKS}
    for name in SAVED_LINKS:
        if links.get(name) is not None:
            ids[f"{name}_id"] = links[name].pk
    return ids


@dataclass
class Story:
    """One customer while their rows are being built."""

    rng: random.Random
    world: World
    batch: Batch
    customer: Customer
    address: CustomerAddress
    home_store: str

    @property
    def zone(self) -> ZoneInfo:
        return self.world.zone(self.customer.time_zone)

    def at(self, base: datetime, days: int, earliest: int = 9, latest: int = 18) -> datetime:
        """A local time between `earliest` and `latest` o'clock, `days` after `base`."""
        day = base.astimezone(self.zone).date() + timedelta(days=days)
        minutes = self.rng.randint(earliest * 60, latest * 60 - 1)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)

    def add(self, kind: str, channel: str, when: datetime | None, summary: str, **links) -> Touchpoint | None:
        """Record a touchpoint if it has already happened; a story never reaches into the future."""
        if when is None or when > self.world.now:
            return None
        touchpoint = Touchpoint(
            customer=self.customer, kind=kind, channel=channel, occurred_at=when, summary=summary[:300], **_ids(links)
        )
        self.batch.touchpoints.append(touchpoint)
        return touchpoint

    def notify(self, when: datetime | None, summary: str, **links) -> None:
        """A message on the preferred channel. As with `notify()`, none without consent and an address."""
        customer = self.customer
        channel = customer.preferred_channel
        address = {ContactChannel.EMAIL: customer.email, ContactChannel.SMS: customer.phone}.get(
            channel, customer.user_id
        )
        if customer.consents_to(channel) and address:
            self.add(TouchpointKind.NOTIFICATION, TIMELINE_CHANNEL[channel], when, summary, **links)


# --------------------------------------------------------------------------------------------
# Customers and their orders
# --------------------------------------------------------------------------------------------


def _pick_name(rng: random.Random, city: City) -> tuple[str, str, str]:
    pool_key = rng.choices([p for p, _ in city.pools], [w for _, w in city.pools])[0]
    given, family = NAME_POOLS[pool_key]
    language = POOL_LANGUAGES.get(pool_key)
    if language is None:  # families of every origin, speaking the local languages or English
        language = rng.choice(("nl", "nl", "en") if city.country == "NL" else ("nl", "fr", "fr", "en"))
    elif language != "en" and rng.random() < 0.08:
        language = "en"
    return rng.choice(given.split()), rng.choice(family.split("|")), language


def _phone(rng: random.Random, country: str) -> str:
    if country == "NL":
        return f"+316{rng.randint(10_000_000, 99_999_999)}"
    return f"+324{rng.choice('6789')}{rng.randint(1_000_000, 9_999_999)}"


def _address(rng: random.Random, city: City, customer: Customer, label: str, is_default: bool) -> CustomerAddress:
    number = rng.randint(1, 240)
    if city.country == "NL":
        line1 = f"{rng.choice(city.streets)} {number}" + (f"-{rng.randint(1, 4)}" if rng.random() < 0.3 else "")
        postcode = f"{rng.choice(city.postcodes)} {''.join(rng.choices(NL_POSTCODE_LETTERS, k=2))}"
        line2 = ""
    else:
        line1 = f"{rng.choice(city.streets)} {number}"
        postcode = rng.choice(city.postcodes)
        line2 = f"bus {rng.randint(1, 12)}" if rng.random() < 0.25 else ""
    return CustomerAddress(
        customer=customer,
        label=label,
        line1=line1,
        line2=line2,
        city=city.name,
        postcode=postcode,
        region=city.region,
        country=city.country,
        latitude=Decimal(f"{city.latitude + rng.uniform(-0.03, 0.03):.6f}"),
        longitude=Decimal(f"{city.longitude + rng.uniform(-0.045, 0.045):.6f}"),
        is_default=is_default,
    )


def _new_customer(rng: random.Random, n: int, city: City) -> Customer:
    given, family, language = _pick_name(rng, city)
    email = f"{_ascii_slug(given)}.{_ascii_slug(family)}{n}@{rng.choice(EMAIL_DOMAINS)}"
    preferred = rng.choices(ContactChannel.values, (62, 26, 12))[0]
    consents = {channel: rng.random() < 0.7 for channel in ContactChannel.values}
    consents[preferred] = rng.random() < 0.93
    return Customer(
        given_name=given,
        family_name=family,
        email=email,
        alternate_email=f"{_ascii_slug(given)}{n}@work.example.net" if rng.random() < 0.08 else "",
        phone=_phone(rng, city.country) if rng.random() < 0.92 else "",
        alternate_phone=_phone(rng, city.country) if rng.random() < 0.1 else "",
        time_zone=TIME_ZONES[city.country],
        language=language,
        preferred_channel=preferred,
        consent_email=consents[ContactChannel.EMAIL],
        consent_sms=consents[ContactChannel.SMS],
        consent_push=consents[ContactChannel.PUSH],
    )


def _build_customer(n: int, world: World, batch: Batch) -> None:
    """Demo customer number `n`, their addresses and 1-3 orders, each with the story that followed."""
    rng = random.Random(f"{SEED}:customer:{n}")
    city = rng.choices(CITIES, CITY_WEIGHTS)[0]
    customer = _new_customer(rng, n, city)
    home = _address(rng, city, customer, "home", is_default=True)
    batch.customers.append(customer)
    batch.addresses.append(home)
    if rng.random() < 0.2:
        batch.addresses.append(_address(rng, city, customer, rng.choice(("work", "parents", "holiday")), False))
    batch.external_ids.append(CustomerExternalId(customer=customer, source=DEMO_SOURCE, external_id=str(n)))
    story = Story(rng, world, batch, customer, home, city.store)

    days_ago = sorted(rng.sample(range(HISTORY_DAYS), rng.choices((1, 2, 3), (50, 35, 15))[0]), reverse=True)
    placed = [_random_order(story, d) for d in days_ago]
    first = placed[0].placed_at
    years_before = rng.choice((0, 0, 0, 1, 2, 3, 5))
    customer.created_at = first - timedelta(days=365 * years_before + rng.randint(0, 300), minutes=5)
    _customer_extras(story)


def _random_order(story: Story, days_ago: int) -> Order:
    rng, world = story.rng, story.world
    channel = rng.choices((Channel.STORE, Channel.WEB, Channel.APP, Channel.PHONE), (55, 28, 12, 5))[0]
    location = associate = None
    if channel == Channel.STORE:
        store = story.home_store if rng.random() < 0.85 else _other_store(rng, world, story.customer)
        location = world.locations[store]
        associate = world.associate_for(rng, store)
    elif channel == Channel.PHONE:
        associate = rng.choice(world.agents)
    placed_at = _sale_time(story, days_ago, location)
    order, lines = _place_order(story, channel, location, associate, _basket(rng, world), placed_at, discounts=True)
    _aftercare(story, order, lines)
    return order


def _other_store(rng: random.Random, world: World, customer: Customer) -> str:
    country = "NL" if customer.time_zone == TIME_ZONES["NL"] else "BE"
    stores = [c for c, loc in world.locations.items() if loc.kind == LocationKind.STORE and loc.country == country]
    return rng.choice(sorted(stores))


def _basket(rng: random.Random, world: World) -> list[tuple[Product, int]]:
    size = rng.choices((1, 2, 3), (55, 30, 15))[0]
    categories = rng.sample(list(CATEGORY_WEIGHTS), k=size, counts=list(CATEGORY_WEIGHTS.values()))
    picked = {rng.choice(world.categories[c]).sku: c for c in categories}
    items = []
    for sku, category in picked.items():
        small = category in FASHION or category in {"textiles", "lighting"}
        items.append((world.products[sku], rng.choices((1, 2, 3), (80, 15, 5))[0] if small else 1))
    return items


def _sale_time(story: Story, days_ago: int, location: Location | None) -> datetime:
    """In store: while the store is open (local time), on the nearest earlier open day. Online: waking hours."""
    rng, world = story.rng, story.world
    zone = world.zone(location.time_zone) if location else story.zone
    day = world.now.astimezone(zone).date() - timedelta(days=days_ago)
    spans = [["07:00", "23:30"]]
    if location:
        while not (spans := location.opening_hours.get(WEEKDAYS[day.weekday()])):
            day -= timedelta(days=1)
    opens, closes = rng.choice(spans)
    start, end = _minutes(opens), _minutes(closes) - 15
    minutes = rng.randint(start, max(start, end))
    when = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return when if when <= world.now else when - timedelta(days=7)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _place_order(
    story: Story, channel: str, location, associate, items, placed_at: datetime, *, discounts: bool
) -> tuple[Order, list[OrderLine]]:
    """The order, its lines (the total is their sum) and its purchase touchpoint, linked to the order."""
    order = Order(customer=story.customer, channel=channel, location=location, associate=associate, placed_at=placed_at)
    lines = [_line(story.rng if discounts else None, order, product, quantity) for product, quantity in items]
    order.total = sum((line.amount for line in lines), Decimal("0.00"))
    story.batch.orders.append(order)
    story.batch.lines.extend(lines)
    where = f"in {location.name}" if location else {"web": "online", "app": "in the app", "phone": "by phone"}[channel]
    purchase = story.add(
        TouchpointKind.PURCHASE,
        channel,
        placed_at,
        f"Bought {_describe(lines)} {where} ({_eur(order.total)})",
        location=location,
        associate=associate,
        product=lines[0].product,
        order_number=order.number,
        subject_type=story.world.order_type,
    )
    if purchase is not None:
        story.batch.purchases.append((purchase, order))
    return order, lines


def _line(rng: random.Random | None, order: Order, product: Product, quantity: int) -> OrderLine:
    """Shelf prices include VAT. A line holds the net unit price and discount, and the VAT is what makes the
    line come to the shelf price (less any discount) to the cent, as a till computes it."""
    rate = rng.choices((Decimal(0), Decimal("0.10"), Decimal("0.15")), (85, 10, 5))[0] if rng else Decimal(0)
    to_pay = _money(product.price * quantity * (1 - rate))
    unit_price = _money(product.price / (1 + VAT_RATE))
    discount = _money(unit_price * quantity * rate)
    tax = to_pay - (unit_price * quantity - discount)
    return OrderLine(order=order, product=product, quantity=quantity, unit_price=unit_price, discount=discount, tax=tax)


def _category(product: Product) -> str:
    """The category slug, from the catalogue spec: reading product.category would cost a query per row."""
    return CATEGORY_OF_SKU.get(product.sku, "")


def _describe(lines: list[OrderLine]) -> str:
    first = lines[0]
    name = first.product.name if first.quantity == 1 else f"{first.quantity} × {first.product.name}"
    rest = len(lines) - 1
    return name + (f" and {rest} more item{'s' if rest > 1 else ''}" if rest else "")


def _aftercare(story: Story, order: Order, lines: list[OrderLine]) -> None:
    """Delivery or pickup, then services, then what the customer said about it."""
    arrived, delivered = _fulfil(story, order, lines)
    for line in lines:
        _services(story, order, line, arrived)
    _feedback(story, order, lines, arrived, delivered)


def _fulfil(story: Story, order: Order, lines: list[OrderLine]) -> tuple[datetime, bool]:
    """When the goods reached the customer (maybe in the future), and whether a carrier brought them."""
    bulky = any(line.product.installable or _category(line.product) in FURNITURE for line in lines)
    if order.channel == Channel.STORE and not bulky:
        return order.placed_at, False
    if bulky or story.rng.random() < 0.5:
        return _deliver(story, order, lines, bulky), True
    return _collect(story, order, lines), False


def _deliver(story: Story, order: Order, lines: list[OrderLine], bulky: bool) -> datetime:
    rng, world = story.rng, story.world
    if bulky:
        slot_start = rng.choice((8, 12, 16))
        when = story.at(order.placed_at, rng.randint(3, 12), slot_start, slot_start + 4)
        slot = f"between {slot_start:02d}:00 and {slot_start + 4:02d}:00"
    else:
        when = story.at(order.placed_at, rng.randint(1, 3), 9, 18)
        slot = "during the day"
    warehouse = world.locations[WAREHOUSE]
    links = {"order_number": order.number, "product": lines[0].product}
    story.notify(
        order.placed_at + timedelta(minutes=rng.randint(2, 90)),
        f"Delivery of order {order.number} planned for {when.astimezone(story.zone):%a %d %b}, {slot}",
        **links,
    )
    signer = story.customer.given_name if rng.random() < 0.85 else "a neighbour"
    story.add(
        TouchpointKind.DELIVERY,
        Channel.APP,
        when,
        f"Delivered {_describe(lines)} to {story.address.line1}, {story.address.city}; signed for by {signer}",
        location=warehouse,
        **links,
    )
    return when


def _collect(story: Story, order: Order, lines: list[OrderLine]) -> datetime:
    rng, world = story.rng, story.world
    country = story.address.country
    point = world.locations[story.home_store] if rng.random() < 0.35 else rng.choice(world.pickup_points[country])
    ready = story.at(order.placed_at, rng.randint(1, 2), 9, 16)
    links = {"order_number": order.number, "location": point}
    story.notify(ready, f"Order {order.number} is ready for collection at {point.name}", **links)
    collected = story.at(ready, rng.randint(0, 4), 8, 21)
    channel = {LocationKind.LOCKER: Channel.APP, LocationKind.KIOSK: Channel.KIOSK}.get(point.kind, Channel.STORE)
    how = "opened the locker with the code in the app" if point.kind == LocationKind.LOCKER else "showed the QR code"
    story.add(
        TouchpointKind.PICKUP,
        channel,
        collected,
        f"Collected {_describe(lines)} at {point.name}; {how}",
        product=lines[0].product,
        **links,
    )
    return collected


def _services(story: Story, order: Order, line: OrderLine, arrived: datetime) -> None:
    rng, product = story.rng, line.product
    if product.installable and rng.random() < 0.6:
        installed = _install(story, order, product, arrived)
        if rng.random() < 0.05:
            _complain(story, order, product, installed, "installation")
    if product.trainable and rng.random() < 0.35:
        _train(story, order, product, arrived)
    if product.alterable and order.channel == Channel.STORE and rng.random() < 0.4:
        _alter(story, order, product)


def _install(story: Story, order: Order, product: Product, arrived: datetime) -> datetime:
    rng = story.rng
    appliance = _category(product) in APPLIANCES or product.trainable
    installer = story.world.associate_for(rng, story.home_store, "appliance_installation" if appliance else "assembly")
    when = story.at(arrived, rng.randint(0, 6), 8, 18)
    if appliance:
        extra = "old appliance taken back for recycling" if rng.random() < 0.5 else "first-use settings explained"
        summary = f"Installed and tested {product.name}; {extra}"
    else:
        summary = f"Assembled {product.name} in {rng.randint(45, 180)} minutes; packaging taken away"
    story.add(
        TouchpointKind.INSTALLATION,
        Channel.APP,
        when,
        summary,
        associate=installer,
        location=story.world.locations[story.home_store],
        product=product,
        order_number=order.number,
    )
    return when


def _train(story: Story, order: Order, product: Product, arrived: datetime) -> None:
    rng = story.rng
    title = rng.choice(TRAINING_TITLES.get(_category(product), ("Getting started",)))
    store = story.world.locations[story.home_store]
    trainer = story.world.associate_for(rng, story.home_store, "appliance_training")
    at_home = rng.random() < 0.3
    story.add(
        TouchpointKind.TRAINING,
        Channel.APP if at_home else Channel.STORE,
        story.at(arrived, rng.randint(3, 20), 10, 19),
        f"Home demo of the {product.name}: {title}" if at_home else f"Attended the '{title}' workshop at {store.name}",
        associate=trainer,
        location=None if at_home else store,
        product=product,
        order_number=order.number,
    )


def _alter(story: Story, order: Order, product: Product) -> None:
    rng = story.rng
    what = rng.choice(ALTERATIONS.get(_category(product), ("adjusted to fit",)))
    store = order.location
    tailor = story.world.associate_for(rng, store.code, "tailoring")
    ready_days = rng.randint(3, 7)
    links = {"location": store, "product": product, "order_number": order.number}
    story.add(
        TouchpointKind.ALTERATION,
        Channel.STORE,
        order.placed_at + timedelta(minutes=rng.randint(5, 30)),
        f"Alteration booked for {product.name}: {what}; ready in {ready_days} days",
        associate=tailor,
        **links,
    )
    story.notify(
        story.at(order.placed_at, ready_days, 10, 17),
        f"Your altered {product.name} is ready for collection at {store.name}",
        **links,
    )


def _feedback(story: Story, order: Order, lines: list[OrderLine], arrived: datetime, delivered: bool) -> None:
    rng = story.rng
    if rng.random() < (0.08 if delivered else 0.03):
        _complain(story, order, lines[0].product, arrived, "delivery" if delivered else "general")
    returnable = [line for line in lines if line.product.returnable]
    if returnable and rng.random() < 0.07:
        _return(story, order, rng.choice(returnable), arrived)
    if rng.random() < 0.25:
        score = rng.choices(range(1, 11), (1, 1, 1, 2, 3, 5, 9, 14, 12, 10))[0]
        comment = rng.choice(SURVEY_COMMENTS)
        story.add(
            TouchpointKind.SURVEY,
            Channel.EMAIL if story.customer.consent_email else Channel.WEB,
            story.at(arrived, rng.randint(2, 6), 8, 22),
            f"Answered the survey about order {order.number}: {score}/10" + (f" — “{comment}”" if comment else ""),
            order_number=order.number,
        )
    if rng.random() < 0.12:
        _review(story, order, rng.choice(lines).product, arrived)
    if rng.random() < 0.06:
        product = rng.choice(lines).product
        story.add(
            TouchpointKind.LIKE,
            Channel.APP,
            story.at(arrived, rng.randint(0, 10), 7, 23),
            f"Liked {product.name}",
            product=product,
        )


COMPLAINT_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.CHAT, Channel.SOCIAL, Channel.APP)


def _complain(story: Story, order: Order, product: Product, after: datetime, topic: str) -> None:
    """A complaint, sometimes a goodwill voucher, and its resolution by a customer-service agent."""
    rng = story.rng
    agent = rng.choice(story.world.agents)
    opened = story.at(after, rng.randint(0, 3), 8, 21)
    channel = rng.choices(COMPLAINT_CHANNELS, (35, 25, 25, 8, 7))[0]
    links = {"order_number": order.number, "product": product}
    issue = rng.choice(COMPLAINTS[topic])
    story.add(TouchpointKind.COMPLAINT, channel, opened, f"Complaint: {issue}", associate=agent, **links)
    if rng.random() < 0.5:
        amount = Decimal(rng.choice((10, 15, 25, 50)))
        story.add(
            TouchpointKind.CREDIT_VOUCHER,
            Channel.EMAIL,
            opened + timedelta(hours=rng.randint(1, 30)),
            f"Goodwill voucher of {_eur(amount)} issued after the complaint about: {issue}",
            associate=agent,
            order_number=order.number,
        )
    story.add(
        TouchpointKind.COMPLAINT,
        channel,
        story.at(opened, rng.randint(1, 4), 9, 18),
        f"Complaint resolved: {rng.choice(RESOLUTIONS)}",
        associate=agent,
        **links,
    )


def _return(story: Story, order: Order, line: OrderLine, arrived: datetime) -> None:
    rng, world = story.rng, story.world
    product = line.product
    reasons = RETURN_REASONS["fashion" if _category(product) in FASHION else "other"]
    when = story.at(arrived, rng.randint(1, max(1, min(product.return_window_days, 28) - 1)), 9, 18)
    if rng.random() < 0.6:
        location, channel, how = world.locations[story.home_store], Channel.STORE, "at the store"
        associate = world.associate_for(rng, story.home_store)
    else:
        location, channel, how = world.locations[RETURNS_CENTRE], Channel.WEB, "by parcel at the returns centre"
        associate = world.associate_for(rng, RETURNS_CENTRE, "returns_inspection")
    story.add(
        TouchpointKind.RETURN,
        channel,
        when,
        f"Returned {product.name} ({rng.choice(reasons)}), received {how}; "
        f"refund of {_eur(line.amount)} to the original payment method",
        associate=associate,
        location=location,
        product=product,
        order_number=order.number,
    )


def _review(story: Story, order: Order, product: Product, arrived: datetime) -> None:
    rng = story.rng
    stars = rng.choices((5, 4, 3, 2, 1), (45, 30, 12, 7, 6))[0]
    story.add(
        TouchpointKind.REVIEW,
        rng.choice((Channel.WEB, Channel.APP)),
        story.at(arrived, rng.randint(3, 21), 8, 23),
        f"Reviewed {product.name}: {'★' * stars}{'☆' * (5 - stars)} “{rng.choice(REVIEW_QUOTES[stars])}”",
        product=product,
        order_number=order.number,
    )


def _customer_extras(story: Story) -> None:
    """Now and then a customer refers a friend or writes a testimonial."""
    rng = story.rng
    now = story.world.now
    if rng.random() < 0.04:
        story.add(
            TouchpointKind.REFERRAL,
            rng.choice((Channel.APP, Channel.WEB)),
            now - timedelta(days=rng.randint(1, HISTORY_DAYS), minutes=rng.randint(0, 600)),
            "Referred a friend, who got €20 off their first order",
        )
    if rng.random() < 0.02:
        story.add(
            TouchpointKind.TESTIMONIAL,
            Channel.WEB,
            now - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600)),
            f"Testimonial submitted for publication: “{rng.choice(TESTIMONIALS)}”",
        )


def _seed_customers(target: int, world: World, counts: Counter) -> None:
    """Create demo customers 1..target that do not exist yet, in chunks to bound memory.

    The cycle collector is paused meanwhile: building 100,000+ model instances would trigger it over and
    over (about a tenth of the run time), and these rows hold no cycles worth collecting.
    """
    have = {
        int(value)
        for value in CustomerExternalId.objects.filter(source=DEMO_SOURCE).values_list("external_id", flat=True)
        if value.isdigit()
    }
    missing = [n for n in range(1, target + 1) if n not in have]
    with _gc_paused():
        for start in range(0, len(missing), CUSTOMERS_PER_CHUNK):
            batch = Batch()
            for n in missing[start : start + CUSTOMERS_PER_CHUNK]:
                _build_customer(n, world, batch)
            _write_batch(batch, counts)


@contextmanager
def _gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------------------------
# The demo customer of the retailer's app: one complete story
# --------------------------------------------------------------------------------------------

# (days ago, channel, store or None, associate e-mail or None, [(sku, quantity)])
APP_CUSTOMER_ORDERS = [
    (58, Channel.STORE, "ST-AMS", DEMO_ASSOCIATE, [("RV-SOF-1002", 1), ("RV-SOF-1005", 1), ("RV-LIG-6001", 1)]),
    (31, Channel.APP, None, None, [("RV-APP-5002", 1)]),
    (9, Channel.WEB, None, None, [("RV-WOM-8002", 1), ("RV-WOM-8001", 1)]),
]


def _app_customer_story(orders: list[Order]) -> list[tuple]:
    """(days ago, local time, kind, channel, associate, location, sku, order, summary) after the purchases."""
    sofa, oven, clothes = orders
    delivery_day = f"{sofa.placed_at + timedelta(days=7):%A}"
    redelivery_day = f"{sofa.placed_at + timedelta(days=11):%A}"
    K, C = TouchpointKind, Channel
    # fmt: off
    return [
        (58, "15:12", K.NOTIFICATION, C.EMAIL, None, None, "RV-SOF-1002", sofa,
         f"Order {sofa.number} confirmed: delivery of the sofa set planned for {delivery_day}, 08:00–12:00"),
        (52, "18:30", K.NOTIFICATION, C.SMS, None, None, None, sofa,
         f"Order {sofa.number}: we deliver tomorrow between 08:00 and 12:00"),
        (51, "10:41", K.DELIVERY, C.APP, None, WAREHOUSE, "RV-SOF-1002", sofa,
         "Delivered 2 of the 3 sofa modules; the corner module was not on the truck (noted on the delivery note)"),
        (51, "11:05", K.COMPLAINT, C.APP, None, None, "RV-SOF-1002", sofa,
         "Complaint from the app: “My three-piece sofa arrived one piece short — I can't use it without the corner”"),
        (51, "14:20", K.COMPLAINT, C.PHONE, DEMO_AGENT, None, "RV-SOF-1002", sofa,
         "Called back: corner module found at the Tilburg distribution centre; re-delivery booked for "
         f"{redelivery_day} 08:00–12:00"),
        (50, "09:15", K.CREDIT_VOUCHER, C.EMAIL, DEMO_MANAGER, None, None, sofa,
         "Goodwill voucher of €50.00 issued for the missing sofa module (approved by the store manager)"),
        (47, "09:32", K.DELIVERY, C.APP, None, WAREHOUSE, "RV-SOF-1002", sofa,
         "Corner module delivered; the sofa set is complete"),
        (47, "10:05", K.INSTALLATION, C.APP, DEMO_ASSOCIATE, "ST-AMS", "RV-SOF-1002", sofa,
         "Sofa modules assembled and linked; packaging of all three pieces taken away"),
        (46, "16:45", K.COMPLAINT, C.EMAIL, DEMO_AGENT, None, "RV-SOF-1002", sofa,
         "Complaint resolved: sofa complete and assembled; the customer thanked the team for the quick fix"),
        (44, "20:10", K.SURVEY, C.EMAIL, None, None, None, sofa,
         "Answered the delivery survey: 7/10 — “Great sofa, shame about the missing piece”"),
        (40, "21:03", K.REVIEW, C.APP, None, None, "RV-SOF-1002", sofa,
         "Reviewed Oslo 3-piece modular sofa set: ★★★★☆ “Super comfy; the delivery hiccup was sorted quickly”"),
        (31, "15:05", K.CREDIT_VOUCHER, C.APP, None, None, None, oven,
         f"Goodwill voucher of €50.00 redeemed on order {oven.number}"),
        (27, "12:30", K.DELIVERY, C.APP, None, WAREHOUSE, "RV-APP-5002", oven,
         "Delivered the built-in combi-steam oven; signed for by Emma"),
        (27, "13:15", K.INSTALLATION, C.APP, DEMO_ASSOCIATE, "ST-AMS", "RV-APP-5002", oven,
         "Installed and tested the combi-steam oven; old oven taken back for recycling"),
        (20, "19:00", K.TRAINING, C.STORE, DEMO_ASSOCIATE, "ST-AMS", "RV-APP-5002", oven,
         "Attended the 'Cooking with induction and steam' workshop at Ravelijn Amsterdam Zuid"),
        (15, "22:14", K.LIKE, C.APP, None, None, "RV-TEX-7003", None, "Liked Wool rug 200×300, ivory"),
        (12, "18:40", K.REFERRAL, C.APP, None, None, None, None,
         "Referred a friend, who got €20 off their first order"),
        (8, "11:02", K.NOTIFICATION, C.APP, None, "LK-AMS-CS", None, clothes,
         f"Order {clothes.number} is ready for collection at Ravelijn Locker Amsterdam Centraal"),
        (7, "08:17", K.PICKUP, C.APP, None, "LK-AMS-CS", "RV-WOM-8002", clothes,
         "Collected the trousers and coat at Ravelijn Locker Amsterdam Centraal; opened the locker with the app"),
        (6, "12:20", K.ALTERATION, C.STORE, DEMO_ASSOCIATE, "ST-AMS", "RV-WOM-8002", clothes,
         "Alteration booked for Wide-leg trousers, navy: hem raised 4 cm; ready in 3 days"),
        (3, "12:45", K.RETURN, C.STORE, DEMO_ASSOCIATE, "ST-AMS", "RV-WOM-8001", clothes,
         "Returned Wool-blend coat, camel (too large), received at the store; refund of €229.00 to the original "
         "payment method"),
        (3, "16:30", K.NOTIFICATION, C.APP, None, "ST-AMS", "RV-WOM-8002", clothes,
         "Your altered Wide-leg trousers, navy are ready for collection at Ravelijn Amsterdam Zuid"),
        (2, "20:55", K.TESTIMONIAL, C.APP, None, None, None, None,
         "Testimonial submitted for publication: “The Amsterdam team turned a missing sofa piece into great "
         "service”"),
        (1, "09:00", K.NOTIFICATION, C.APP, None, None, None, clothes,
         "Your refund of €229.00 is on its way; expect it within 3 working days"),
    ]
    # fmt: on


def _seed_app_customer(world: World, counts: Counter) -> None:
    """The customer behind customer@…: created once, with the sofa-set story and two more orders."""
    user = world.users[DEMO_CUSTOMER]
    if Customer.objects.filter(user=user).exists():
        return
    batch = Batch()
    customer = Customer(
        user=user,
        given_name=user.first_name,
        family_name=user.last_name,
        email=user.email,
        phone="+31612345678",
        time_zone=TIME_ZONES["NL"],
        language="en",
        preferred_channel=ContactChannel.PUSH,
        consent_email=True,
        consent_sms=True,
        consent_push=True,
        created_at=world.now - timedelta(days=400),
    )
    city = next(c for c in CITIES if c.name == "Amsterdam")
    home = CustomerAddress(
        customer=customer,
        label="home",
        line1="Ferdinand Bolstraat 118-3",
        city=city.name,
        postcode="1072 LN",
        region=city.region,
        country="NL",
        latitude=Decimal("52.354300"),
        longitude=Decimal("4.891500"),
        is_default=True,
    )
    batch.customers.append(customer)
    batch.addresses.append(home)
    batch.external_ids.append(
        CustomerExternalId(customer=customer, source=DEMO_SOURCE, external_id=APP_CUSTOMER_EXTERNAL_ID)
    )
    # Its own generator, so that only the scripted events happen: no random after-care.
    story = Story(random.Random(f"{SEED}:app-customer"), world, batch, customer, home, "ST-AMS")
    orders = [_scripted_order(story, *spec) for spec in APP_CUSTOMER_ORDERS]
    for days, clock, kind, channel, associate, location, sku, order, summary in _app_customer_story(orders):
        when = datetime.combine(
            world.now.astimezone(story.zone).date() - timedelta(days=days), time.fromisoformat(clock), story.zone
        )
        story.add(
            kind,
            channel,
            min(when, world.now),
            summary,
            associate=world.users[associate] if associate else None,
            location=world.locations[location] if location else None,
            product=world.products[sku] if sku else None,
            order_number=order.number if order else "",
        )
    _write_batch(batch, counts)


def _scripted_order(story: Story, days_ago, channel, store, associate, items) -> Order:
    world = story.world
    location = world.locations[store] if store else None
    zone = world.zone(location.time_zone) if location else story.zone
    placed_at = datetime.combine(world.now.astimezone(zone).date() - timedelta(days=days_ago), time(15, 4), zone)
    products = [(world.products[sku], quantity) for sku, quantity in items]
    seller = world.users[associate] if associate else None
    order, _ = _place_order(story, channel, location, seller, products, placed_at, discounts=False)
    return order


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def seed_demo(*, customers: int) -> Counter:
    """Create whatever part of the demo data set is missing. Returns the number of rows created per kind."""
    counts: Counter = Counter()
    with transaction.atomic():
        locations = _ensure_locations(counts)
        skills, products = _ensure_catalogue(counts)
        _ensure_inventory(products, locations, counts)
        users = _ensure_users(locations, skills, counts)
        world = _build_world(timezone.now().replace(second=0, microsecond=0), locations, products, users)
        _seed_app_customer(world, counts)
        _seed_customers(customers, world, counts)
    return counts


class Command(BaseCommand):
    help = "Load a believable demo retailer (stores, catalogue, staff logins, customers and their stories)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=200,
            help="How many generated customers the demo should have in total (default 200).",
        )

    def handle(self, *args, customers: int, **options):
        if customers < 0:
            raise CommandError("--customers must be zero or more.")
        counts = seed_demo(customers=customers)
        created = ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "nothing (already seeded)"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Created: {created}."))
        self.stdout.write(
            f"\nOpen {SITE_URL} (Django admin: {SITE_URL}admin/). Demo logins, password {DEMO_PASSWORD!r}:"
        )
        for spec in DEMO_LOGINS:
            role = Role(spec.role).label if spec.role else "Customer (retailer's app)"
            self.stdout.write(f"  {role:<26} {spec.email}")
