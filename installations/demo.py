"""The installations part of the demo: what the retailer's people do for a purchase after the sale,
and when they do it.

Made once, on the first batch of a run that finds them missing: the service catalogue (installation
and assembly service types for the installable products, at home with a travel buffer or in store;
training courses with sessions past and upcoming, a few of them full with a waiting list; alteration
kinds, each sold as a not-stocked service product), the week of every store associate (Monday to
Saturday, in the store's time zone; the demo associate also works the Sunday opening, so whoever signs
in as her finds a working day on any day) and a few absences.

Then, for each new customer (from a generator of its own, so the other steps' stories stay as they
are): an appointment for some installable purchases (completed with checklist and sign-off, no-show,
cancelled, in progress or coming up), an enrolment or an "I need training" request for some trainable
ones, an alteration with its service order for some alterable ones. The demo associate gets jobs today
and through this week; the app's demo customer a dishwasher to be installed, a masterclass seat and
trousers waiting for pickup.

Rows are what the services leave (`installations.services`, `.services_training`,
`.services_alterations` and the orders services they call): an appointment starts on a free slot of
its associate's week, was booked at least APPOINTMENT_BOOKING_LEAD before it, blocks its travel on
either side, and no two of one associate's appointments (nor a session they give, nor an absence)
overlap, so the exclusion constraint `appointment_no_double_booking` holds on PostgreSQL; seats go in
arrival order and a cancelled seat goes to the first in line; an alteration's fee is an order of its own
(held on request, captured at collection, released on cancellation) with its pickup and code once
ready. States change through the models' declared transitions, each step writes the touchpoint the
service writes, and the state transitions and history rows (they need the rows' keys) are written
after the batch. Purchases the orders step already told an installation, training or alteration of
are left alone, so nothing is told twice.
"""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.utils import timezone

from core.choices import Channel, LocationKind, Role, TouchpointKind
from core.codes import secret_code
from core.demo import HISTORY_DAYS, SEED
from core.demo.places import WEEKDAYS
from core.demo.registry import customer_story
from core.demo.staff import DEMO_ASSOCIATE, DEMO_CUSTOMER, DEMO_DOMAIN, ascii_slug
from core.demo.story import Story
from core.demo.world import World
from core.demo.writer import BATCH_SIZE, CHANGE_REASON, Batch, ensure
from core.models import AssociateProfile, Category, Product, Skill, StateTransition, User
from core.money import quantize
from installations.catalogue import covers
from installations.choices import (
    SEATED_STATUSES,
    AppointmentStatus,
    EnrolmentStatus,
    ServiceKind,
    ServicePlace,
    SessionStatus,
    TrainingPlace,
    TrainingRequestStatus,
)
from installations.models import (
    Absence,
    Alteration,
    AlterationKind,
    Appointment,
    Enrolment,
    ServiceType,
    TrainingCourse,
    TrainingRequest,
    TrainingSession,
    WorkingHours,
)
from installations.selectors import STEP, buffers
from orders import demo_fulfilment as fulfilment
from orders.choices import ChargeKind, ChargeStatus, FulfilmentMethod, OrderSource, PickupStatus
from orders.demo import VAT_RATE, eur
from orders.models import Charge, DeliveryLine, Order, OrderLine, Pickup, PickupLine, ShipmentLine
from orders.services.orders import derived_status, purchase_summary
from orders.services.pickups import local_deadline

APPOINTMENT_SHARE = 0.4  # of installable purchases nobody told an installation of: booked
ALTERATION_SHARE = 0.2  # of alterable purchases in the customer's hands: altered at the home store
ENROLMENT_SHARE = 0.4  # of trainable purchases in the customer's hands: a seat in a session
REQUEST_SHARE = 0.3  # of them: "I need training" instead
CANCELLED_SHARE = 0.08  # of appointments, enrolments, alterations: called off in time
NO_SHOW_SHARE = 0.05  # of appointments that were due: nobody in
REWORK_SHARE = 0.1  # of alterations: the quality check sends the work back once
RECENT_ALTERATION_SHARE = 0.4  # of alterations: brought in during the last week, not the days after the sale
WAITING_LIST = 2  # how many wait in line for a full session
FULL_CAPACITY = 4  # the seats of the sessions that fill up
REQUEST_ANSWERED_AFTER = timedelta(days=6)  # older requests have mostly been followed up …
REQUEST_LEFT_SHARE = 0.3  # … but not all: the queue has a backlog
SERVICES = "services"  # the category of the service products (alteration fees)
# What earlier steps told of a purchase: a service done already (not told twice), or that it came back.
TOLD = (TouchpointKind.INSTALLATION, TouchpointKind.TRAINING, TouchpointKind.ALTERATION, TouchpointKind.RETURN)

# --- the catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    name: str
    kind: str
    place: str
    minutes: int
    travel: int
    skills: tuple[str, ...]
    fee: str
    sku: str = ""
    category: str = ""


HOME, STORE = ServicePlace.HOME, ServicePlace.STORE
ASSEMBLY, FITTING = ServiceKind.ASSEMBLY, ServiceKind.INSTALLATION
# fmt: off
SERVICE_TYPES = [
    ServiceSpec("sofa-assembly", "Sofa assembly at home", ASSEMBLY, HOME, 90, 30, ("assembly",), "49.00",
                category="sofas"),
    ServiceSpec("table-assembly", "Table and chair assembly at home", ASSEMBLY, HOME, 60, 30, ("assembly",), "39.00",
                category="tables"),
    ServiceSpec("storage-assembly", "Wardrobe and storage assembly at home", ASSEMBLY, HOME, 150, 30, ("assembly",),
                "79.00", category="storage"),
    ServiceSpec("bed-assembly", "Bed assembly at home", ASSEMBLY, HOME, 120, 30, ("assembly",), "59.00",
                category="beds"),
    ServiceSpec("garden-assembly", "Garden furniture assembly at home", ASSEMBLY, HOME, 120, 45, ("assembly",),
                "59.00", category="outdoor"),
    ServiceSpec("barbecue-assembly-store", "Barbecue assembly in store, ready to take home", ASSEMBLY, STORE, 60, 0,
                ("assembly",), "25.00", sku="RV-OUT-9004"),
    ServiceSpec("appliance-installation", "Built-in appliance installation", FITTING, HOME, 120, 30,
                ("appliance_installation",), "99.00", category="kitchen-appliances"),
    ServiceSpec("hob-installation", "Induction hob installation with worktop cut-out and wiring", FITTING, HOME, 180,
                30, ("appliance_installation", "kitchen_fitting"), "149.00", sku="RV-APP-5001"),
    ServiceSpec("laundry-installation", "Washing machine and dryer installation", FITTING, HOME, 60, 30,
                ("appliance_installation",), "49.00", category="laundry"),
]
# fmt: on


@dataclass(frozen=True)
class KindSpec:
    code: str
    name: str
    days: int
    fee: str
    service_sku: str
    work: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (specification, measurements)
    sku: str = ""
    category: str = ""
    skills: tuple[str, ...] = ("tailoring",)


# fmt: off
ALTERATION_KINDS = [
    KindSpec("hemming", "Hemming", 3, "15.00", "RV-SRV-ALT-001", (
        ("Take the hem up 3 cm; keep the original finish", (("length", "101 cm"), ("taken up", "3 cm"))),
        ("Raise the hem 4 cm for flat shoes", (("length", "96 cm"), ("taken up", "4 cm"))),
        ("Shorten 2 cm with a blind hem", (("length", "88 cm"), ("taken up", "2 cm"))),
    )),
    KindSpec("sleeve-shortening", "Sleeve shortening", 5, "25.00", "RV-SRV-ALT-002", (
        ("Shorten both sleeves 1.5 cm; move the buttons", (("sleeve", "61 cm"), ("taken up", "1.5 cm"))),
        ("Sleeves 2 cm shorter, cuffs as they are", (("sleeve", "59 cm"), ("taken up", "2 cm"))),
    ), category="menswear"),  # jackets and shirts: see FITS
    KindSpec("taking-in", "Taking in or letting out", 5, "29.00", "RV-SRV-ALT-003", (
        ("Take the waist in 2 cm", (("waist", "70 cm"), ("taken in", "2 cm"))),
        ("Let the seams out 1 cm at the hips", (("hips", "98 cm"), ("let out", "1 cm"))),
    ), category="womenswear"),
    KindSpec("suit-tailoring", "Suit fitting and tailoring", 7, "45.00", "RV-SRV-ALT-004", (
        ("Take the jacket in at the waist; hem the trousers 2 cm",
         (("chest", "100 cm"), ("waist", "86 cm"), ("inside leg", "80 cm"))),
    ), sku="RV-MEN-8101"),
    KindSpec("curtain-fitting", "Curtain shortening and hooks", 7, "35.00", "RV-SRV-ALT-005", (
        ("Shorten to fit the rail; move the hooks for a higher drop", (("drop", "238 cm"), ("width", "140 cm"))),
    ), category="textiles"),
]
# fmt: on
# What the tailors do to each alterable product (every kind named covers the product).
FITS = {
    "RV-WOM-8001": ("hemming", "taking-in"),
    "RV-WOM-8002": ("hemming", "hemming", "taking-in"),
    "RV-WOM-8003": ("taking-in",),
    "RV-WOM-8005": ("taking-in", "hemming"),
    "RV-MEN-8101": ("suit-tailoring",),
    "RV-MEN-8102": ("hemming",),
    "RV-MEN-8104": ("sleeve-shortening",),
    "RV-TEX-7002": ("curtain-fitting",),
}


@dataclass(frozen=True)
class CourseSpec:
    code: str
    name: str
    description: str
    sku: str = ""
    category: str = ""


COURSES = [
    CourseSpec(
        "cooking-induction-steam",
        "Cooking with induction and steam",
        "Two hours at the store's demo kitchen: pans, power levels, steam programmes and cleaning.",
        category="kitchen-appliances",
    ),
    CourseSpec(
        "steam-oven-masterclass",
        "Steam oven masterclass: bread and pastry",
        "Proving, baking and crisping with steam, for owners of the built-in combi-steam oven.",
        sku="RV-APP-5002",
    ),
    CourseSpec(
        "espresso-at-home",
        "Espresso at home",
        "Grind, dose, milk foam and descaling on the bean-to-cup machine.",
        sku="RV-APP-5005",
    ),
    CourseSpec(
        "smart-cleaning",
        "Smart cleaning: set-up and schedules",
        "An hour online: maps, no-go zones, mopping and schedules in the robot vacuum's app.",
        sku="RV-SMA-5203",
    ),
    CourseSpec(
        "barbecue-masterclass",
        "Barbecue masterclass",
        "Direct and indirect heat, safe gas handling and cleaning, on the four-burner barbecue.",
        sku="RV-OUT-9004",
    ),
]


@dataclass(frozen=True)
class SessionSpec:
    course: str
    days: int  # from today; a Sunday moves to the Monday
    clock: str
    minutes: int
    capacity: int
    stores: tuple[str, ...] = ()  # empty: every store
    place: str = TrainingPlace.STORE
    full_at: tuple[str, ...] = ()  # stores where it has FULL_CAPACITY seats and fills up with a waiting list
    cancelled_at: tuple[str, ...] = ()


ALL_BUT_AMS = ("ST-UTR", "ST-RTD", "ST-EHV", "ST-ANR", "ST-GNT", "ST-BRU")
SESSIONS = [
    SessionSpec("cooking-induction-steam", -20, "17:00", 120, 8, ("ST-AMS",)),  # the app customer attended
    SessionSpec("cooking-induction-steam", -16, "14:00", 120, 8, ALL_BUT_AMS),
    SessionSpec("espresso-at-home", -9, "10:00", 90, 6),
    SessionSpec("cooking-induction-steam", 4, "14:00", 120, 8, full_at=("ST-UTR",)),
    SessionSpec("smart-cleaning", 5, "16:00", 60, 20, ("ST-UTR",), place=TrainingPlace.ONLINE),
    SessionSpec("espresso-at-home", 7, "10:00", 90, 6, full_at=("ST-AMS",)),
    SessionSpec("steam-oven-masterclass", 9, "14:00", 120, 6, ("ST-AMS",)),
    SessionSpec("barbecue-masterclass", 11, "10:00", 150, 10, cancelled_at=("ST-GNT",)),
    SessionSpec("cooking-induction-steam", 18, "14:00", 120, 8),
]

# Working weeks: weekday -> (starts, ends), wall clock at the home store.
EARLY_WEEK = {**dict.fromkeys(range(5), ("08:00", "17:00")), 5: ("09:00", "16:00")}
LATE_WEEK = dict.fromkeys(range(1, 6), ("08:30", "17:30"))  # Monday off
SPLIT_WEEK = {0: ("08:00", "17:00"), 1: ("08:00", "17:00"), 3: ("08:00", "17:00"), 4: ("08:00", "17:00")} | {
    5: ("09:00", "17:00")
}  # Wednesday off
WEEKS = (EARLY_WEEK, LATE_WEEK, SPLIT_WEEK)
DEMO_ASSOCIATE_WEEK = {**EARLY_WEEK, 6: ("12:00", "17:00")}


def _team_email(name: str) -> str:
    first, last = name.split(" ", 1)
    return f"{ascii_slug(first)}.{ascii_slug(last)}@{DEMO_DOMAIN}"


# (who, first day from today (a weekday name: the next one), days, reason)
ABSENCES = [
    ("Daan Mulder", "mon", 5, "Annual leave"),
    ("Priya Sharma", 0, 1, "Sick"),
    ("Emre Yilmaz", -10, 1, "Gas-safety certification course"),
]

# --- the words of the records -------------------------------------------------------------------

CHECKLISTS = {
    ServiceKind.ASSEMBLY: (
        "All parts present and undamaged",
        "Assembled to the manufacturer's instructions",
        "Anchored to the wall where advised",
        "Packaging taken away",
    ),
    ServiceKind.INSTALLATION: (
        "Connected and tested",
        "No leaks or loose connections",
        "Levelled and fixed in place",
        "Customer shown the controls",
        "Old appliance taken back",
    ),
}
JOB_NOTES = (
    "",
    "",
    "Customer asked for the doors to be adjusted; done.",
    "Wall anchors left with the customer for a second shelf.",
    "Explained the warranty registration in the app.",
)
CANCEL_REASONS = (
    "Customer asked for a later date: the kitchen is not finished",
    "Customer cancelled: a friend will assemble it",
    "The fitter is ill; the customer will book a new time",
    "Delivery moved; the customer books again once it has arrived",
)
NO_SHOW_NOTES = (
    "Rang twice and called the customer's phone; no answer",
    "Waited 20 minutes; a neighbour said the customer is away",
)
ALTERATION_CANCEL_REASONS = (
    "Customer decided to keep the item as it is",
    "Customer will have it altered by a family member",
)
REWORK_NOTES = ("Hem uneven at the side seam; redo", "Stitching visible on the right side; redo with matching thread")
QUALITY_NOTES = ("", "Even and pressed", "Checked against the measurements")
REQUEST_NOTES = (
    "How do I use the steam programmes?",
    "Would like a home demo for my parents",
    "The app set-up keeps failing",
    "Can someone show us the cleaning routine?",
    "",
)
REQUEST_DECLINED = (
    "Customer preferred the video guide; link sent",
    "Answered by phone; no session needed",
)

CHANGING = {  # what a history row of each model can differ in from the next
    Appointment: ("status", "reminded_at", "completed_at", "checklist", "notes", "signed_off_by"),
    Alteration: ("status", "measurements", "measured_at", "quality_note", "ready_at", "closed_at", "pickup"),
}


# --- the run: catalogue, staff and their diaries ------------------------------------------------


@dataclass
class Staff:
    """A store associate as the scheduler reads them."""

    profile: AssociateProfile
    user: User
    store: str
    skills: frozenset[str]
    zone: ZoneInfo
    week: dict[int, list[tuple[time, time]]]


class Diary:
    """When each associate is busy (appointments with their travel, the sessions they give, absences),
    filed by their local day, so a check reads a handful of entries."""

    def __init__(self) -> None:
        self.busy: dict[tuple[int, date], list[tuple[datetime, datetime]]] = defaultdict(list)

    @staticmethod
    def _days(zone: ZoneInfo, start: datetime, end: datetime):
        day, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
        while day <= last:
            yield day
            day += timedelta(days=1)

    def hold(self, profile_id: int, zone: ZoneInfo, start: datetime, end: datetime) -> None:
        for day in self._days(zone, start, end):
            self.busy[(profile_id, day)].append((start, end))

    def free(self, staff: Staff, start: datetime, end: datetime) -> bool:
        return all(
            not (b_start < end and start < b_end)
            for day in self._days(staff.zone, start, end)
            for b_start, b_end in self.busy.get((staff.profile.pk, day), ())
        )


@dataclass
class Setting:
    """What the step reads, made and loaded once per run (`world.memo`)."""

    world: World
    rng: random.Random
    service_types: list[ServiceType]
    service_skills: dict[int, frozenset[str]]
    kinds: list[AlterationKind]
    kind_skills: dict[int, frozenset[str]]
    courses: list[TrainingCourse]
    sessions: list[TrainingSession]
    seats: dict[int, list[int]]  # session pk -> [seated, waiting]
    full: set[int]  # sessions that fill up with a waiting list
    staff: dict[int, Staff]  # by user pk
    staff_at: dict[str, list[Staff]]
    diary: Diary
    demo_associate: Staff
    targets: list[tuple[date, int]]  # (day, minutes past midnight) the demo associate still needs a job at


def _setting(world: World) -> Setting:
    if "installations" not in world.memo:
        world.memo["installations"] = _load(world)
    return world.memo["installations"]


def _load(world: World) -> Setting:
    counts: Counter = Counter()  # the command's summary counts the customers' rows; these are reference rows
    skills = Skill.objects.in_bulk(field_name="code")
    categories = {category.slug: category for category in Category.objects.all()}
    categories |= ensure(Category, "slug", [Category(slug=SERVICES, name="Services and alterations")], counts)
    services = _ensure_service_products(categories[SERVICES], counts)

    def scope(spec) -> dict:
        if spec.sku:
            return {"product": world.products[spec.sku]}
        return {"category": categories[spec.category]} if spec.category else {}

    _ensure_with_skills(
        ServiceType,
        [
            ServiceType(
                code=s.code,
                name=s.name,
                kind=s.kind,
                place=s.place,
                duration_minutes=s.minutes,
                travel_buffer_minutes=s.travel,
                fee=Decimal(s.fee),
                **scope(s),
            )
            for s in SERVICE_TYPES
        ],
        {s.code: s.skills for s in SERVICE_TYPES},
        skills,
        counts,
    )
    _ensure_with_skills(
        AlterationKind,
        [
            AlterationKind(
                code=k.code,
                name=k.name,
                turnaround_days=k.days,
                fee=Decimal(k.fee),
                service_product=services[k.service_sku],
                **scope(k),
            )
            for k in ALTERATION_KINDS
        ],
        {k.code: k.skills for k in ALTERATION_KINDS},
        skills,
        counts,
    )
    courses = ensure(
        TrainingCourse,
        "code",
        [TrainingCourse(code=c.code, name=c.name, description=c.description, **scope(c)) for c in COURSES],
        counts,
    )
    staff = _staff(world)
    _ensure_weeks(world, staff)
    _ensure_sessions(world, courses, staff)
    return _loaded(world, staff)


def _ensure_service_products(category: Category, counts: Counter) -> dict[str, Product]:
    """The fee of each alteration kind is sold as a product that is not stocked."""
    return ensure(
        Product,
        "sku",
        [
            Product(
                sku=k.service_sku,
                name=f"Alteration service: {k.name.lower()}",
                category=category,
                price=Decimal(k.fee),
                returnable=False,
                return_window_days=0,
                stocked=False,
            )
            for k in ALTERATION_KINDS
        ],
        counts,
        history=True,
    )


def _ensure_with_skills(model, wanted: list, needs: dict[str, tuple[str, ...]], skills: dict, counts: Counter):
    """`ensure` the rows by code and give those it creates the skills they need (rows already there
    keep theirs, as someone may have changed them in the admin)."""
    had = set(model.objects.filter(code__in=[row.code for row in wanted]).values_list("code", flat=True))
    rows = ensure(model, "code", wanted, counts, history=True)
    relation = model._meta.get_field("skills")
    through, own, other = relation.remote_field.through, relation.m2m_field_name(), relation.m2m_reverse_field_name()
    through.objects.bulk_create(
        [
            through(**{f"{own}_id": rows[code].pk, f"{other}_id": skills[skill].pk})
            for code, needed in needs.items()
            if code not in had
            for skill in needed
        ]
    )


def _staff(world: World) -> dict[int, Staff]:
    """The associates of the stores, with their skills (their weeks are read later)."""
    users = {user.pk: user for user in world.users.values()}
    stores = {loc.pk: code for code, loc in world.locations.items() if loc.kind == LocationKind.STORE}
    profiles = AssociateProfile.objects.filter(
        user__in=list(users), home_location__in=list(stores), user__groups__name=Role.ASSOCIATE
    ).prefetch_related("skills")
    staff = {}
    for profile in profiles:
        store = stores[profile.home_location_id]
        staff[profile.user_id] = Staff(
            profile=profile,
            user=users[profile.user_id],
            store=store,
            skills=frozenset(skill.code for skill in profile.skills.all()),
            zone=world.zone(world.locations[store].time_zone),
            week={},
        )
    return staff


def _local_day(world: World, zone: ZoneInfo, days: int) -> date:
    return world.now.astimezone(zone).date() + timedelta(days=days)


def _ensure_weeks(world: World, staff: dict[int, Staff]) -> None:
    """A week for each store associate who has none yet, and the absences of those among them."""
    have = set(
        WorkingHours.objects.filter(associate__in=[s.profile for s in staff.values()]).values_list(
            "associate", flat=True
        )
    )
    new = [s for s in sorted(staff.values(), key=lambda s: s.user.email) if s.profile.pk not in have]
    rows, position = [], Counter()
    for member in new:
        if member.user.email == DEMO_ASSOCIATE:
            week = DEMO_ASSOCIATE_WEEK
        else:
            week = WEEKS[position[member.store] % len(WEEKS)]
            position[member.store] += 1
        rows += [
            WorkingHours(
                associate=member.profile,
                weekday=weekday,
                starts=time.fromisoformat(starts),
                ends=time.fromisoformat(ends),
            )
            for weekday, (starts, ends) in sorted(week.items())
        ]
    WorkingHours.objects.bulk_create(rows)
    by_email = {s.user.email: s for s in new}
    absences = []
    for name, first, days, reason in ABSENCES:
        member = by_email.get(_team_email(name))
        if member is None:
            continue
        if isinstance(first, str):  # the next such weekday
            today = _local_day(world, member.zone, 0)
            first = (WEEKDAYS.index(first) - today.weekday()) % 7 or 7
        start = datetime.combine(_local_day(world, member.zone, first), time.min, tzinfo=member.zone)
        end = datetime.combine(start.date() + timedelta(days=days), time.min, tzinfo=member.zone)
        absences.append(
            Absence(
                associate=member.profile, starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC), reason=reason
            )
        )
    Absence.objects.bulk_create(absences)


def _ensure_sessions(world: World, courses: dict[str, TrainingCourse], staff: dict[int, Staff]) -> None:
    """The sessions of the demo courses, made once, around the day they are made."""
    if TrainingSession.objects.filter(course__in=list(courses.values())).exists():
        return
    trainers = {
        s.store: s for s in sorted(staff.values(), key=lambda s: s.user.email) if "appliance_training" in s.skills
    }
    stores = sorted(code for code, loc in world.locations.items() if loc.kind == LocationKind.STORE)
    rows = []
    for spec in SESSIONS:
        for store in spec.stores or stores:
            location, trainer = world.locations[store], trainers.get(store)
            zone = world.zone(location.time_zone)
            day = _local_day(world, zone, spec.days)
            if day.weekday() == 6:
                day += timedelta(days=1)
            starts = datetime.combine(day, time.fromisoformat(spec.clock), tzinfo=zone).astimezone(UTC)
            ends = starts + timedelta(minutes=spec.minutes)
            status = SessionStatus.SCHEDULED
            if store in spec.cancelled_at:
                status = SessionStatus.CANCELLED
            elif ends + timedelta(minutes=30) <= world.now:
                status = SessionStatus.HELD
            rows.append(
                TrainingSession(
                    course=courses[spec.course],
                    place=spec.place,
                    location=location,
                    trainer=trainer.profile if trainer else None,
                    starts_at=starts,
                    ends_at=ends,
                    capacity=FULL_CAPACITY if store in spec.full_at else spec.capacity,
                    status=status,
                )
            )
    TrainingSession.objects.bulk_create(rows)


def _loaded(world: World, staff: dict[int, Staff]) -> Setting:
    """Read back what the stories use: the catalogue with its skills, the sessions with their seats,
    the staff's weeks, and every time they are already busy."""
    service_types = sorted(
        ServiceType.objects.filter(is_active=True).prefetch_related("skills"),
        key=lambda st: (st.product_id is None, st.category_id is None, st.code),
    )
    kinds = sorted(
        AlterationKind.objects.filter(is_active=True).select_related("service_product").prefetch_related("skills"),
        key=lambda k: (k.product_id is None, k.category_id is None, k.code),
    )
    courses = list(TrainingCourse.objects.filter(is_active=True))
    by_pk = {loc.pk: loc for loc in world.locations.values()}
    course_of = {course.pk: course for course in courses}
    sessions = [
        session
        for session in TrainingSession.objects.filter(course__in=courses).order_by("starts_at", "id")
        if session.location_id in by_pk
    ]
    for session in sessions:  # the rows the stories link to, without a query each
        session.course, session.location = course_of[session.course_id], by_pk[session.location_id]
    seats: dict[int, list[int]] = {session.pk: [0, 0] for session in sessions}
    counted = Enrolment.objects.filter(session__in=sessions).values_list("session", "status").annotate(n=Count("id"))
    for session_id, status, n in counted:
        if status in SEATED_STATUSES:
            seats[session_id][0] += n
        elif status == EnrolmentStatus.WAITLISTED:
            seats[session_id][1] += n
    full_spec = {(s.course, store) for s in SESSIONS for store in s.full_at}
    full = {
        session.pk
        for session in sessions
        if (session.course.code, session.location.code) in full_spec and session.capacity == FULL_CAPACITY
    }
    profiles = {s.profile.pk: s for s in staff.values()}
    for who, weekday, starts, ends in WorkingHours.objects.filter(associate__in=list(profiles)).values_list(
        "associate", "weekday", "starts", "ends"
    ):
        profiles[who].week.setdefault(weekday, []).append((starts, ends))
    for member in profiles.values():
        member.week = {day: _merged(spans) for day, spans in member.week.items()}
    diary = Diary()
    since = world.now - timedelta(days=HISTORY_DAYS + 30)
    busy = [
        *Appointment.objects.filter(associate__in=list(profiles), blocked_until__gt=since)
        .exclude(status=AppointmentStatus.CANCELLED)
        .values_list("associate", "blocked_from", "blocked_until"),
        *TrainingSession.objects.filter(trainer__in=list(profiles), ends_at__gt=since)
        .exclude(status=SessionStatus.CANCELLED)
        .values_list("trainer", "starts_at", "ends_at"),
        *Absence.objects.filter(associate__in=list(profiles), ends_at__gt=since).values_list(
            "associate", "starts_at", "ends_at"
        ),
    ]
    for who, start, end in busy:
        diary.hold(who, profiles[who].zone, start, end)
    staff_at: dict[str, list[Staff]] = defaultdict(list)
    for member in sorted(staff.values(), key=lambda s: s.user.email):
        staff_at[member.store].append(member)
    demo = staff[world.users[DEMO_ASSOCIATE].pk]
    return Setting(
        world=world,
        rng=random.Random(f"{SEED}:installations"),
        service_types=service_types,
        service_skills={st.pk: frozenset(s.code for s in st.skills.all()) for st in service_types},
        kinds=kinds,
        kind_skills={k.pk: frozenset(s.code for s in k.skills.all()) for k in kinds},
        courses=courses,
        sessions=sessions,
        seats=seats,
        full=full,
        staff=staff,
        staff_at=staff_at,
        diary=diary,
        demo_associate=demo,
        targets=_demo_associate_targets(world, demo),
    )


def _merged(spans: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """A day's overlapping or touching spans as one, as `selectors.free_slots` reads a week."""
    merged: list[tuple[time, time]] = []
    for starts, ends in sorted(spans):
        if merged and starts <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(ends, merged[-1][1]))
        else:
            merged.append((starts, ends))
    return merged


def _demo_associate_targets(world: World, demo: Staff) -> list[tuple[date, int]]:
    """When the demo associate should have a job this week: three today, one or two on the other days
    she works; none if she already has something today (an earlier run)."""
    today = _local_day(world, demo.zone, 0)
    start = datetime.combine(today, time.min, tzinfo=demo.zone)
    if Appointment.objects.filter(
        associate=demo.profile, starts_at__gte=start, starts_at__lt=start + timedelta(days=1)
    ).exists():
        return []
    targets = []
    monday = today - timedelta(days=today.weekday())
    for offset in range(7):
        day = monday + timedelta(days=offset)
        for opens, closes in demo.week.get(day.weekday(), []):
            first, last = _clock_minutes(opens), _clock_minutes(closes)
            wanted = [first + 30, 11 * 60 + 30, 14 * 60 + 30] if day == today else [10 * 60]
            if day != today and offset % 2 == 0:
                wanted.append(13 * 60 + 30)
            targets += [(day, minutes) for minutes in wanted if first <= minutes <= last - 60]
    return targets


def _clock_minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


# --- one batch ----------------------------------------------------------------------------------


@dataclass
class Purchase:
    story: Story
    order: Order
    line: OrderLine
    arrives: datetime | None  # when the goods reached (or are to reach) the customer; None: unknown
    told: set[str] = field(default_factory=set)  # the services the orders step told of for this line

    @property
    def product(self) -> Product:
        return self.line.product


@dataclass
class Change:
    """One history row, written once the batch has its keys: the changing fields as they were then."""

    obj: Appointment | Alteration
    at: datetime
    user: User | None
    kind: str  # "+" created, "~" changed
    values: dict


@dataclass
class EnrolPlan:
    """An enrolment to be seated in arrival order with the session's others (see `_seat`)."""

    story: Story
    session: TrainingSession
    line: OrderLine | None
    at: datetime
    actor: User | None  # staff who enrolled the customer; None: the customer, in the app
    cancel_at: datetime | None = None
    request: TrainingRequest | None = None  # the "I need training" it answers
    told: object = None  # the orders step's touchpoint of the session attended, linked to the enrolment
    enrolment: Enrolment | None = None


@dataclass
class Scene:
    """One batch: the run's setting, what the earlier steps built, and the lists this step's rows go to."""

    setting: Setting
    batch: Batch
    orders: list
    lines: list
    charges: list
    appointments: list
    enrolments: list
    requests: list
    alterations: list
    purchases: dict[int, list[Purchase]] = field(default_factory=dict)  # by id(customer)
    used: set[int] = field(default_factory=set)  # id(line) of the lines given an appointment
    plans: list[EnrolPlan] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    transitions: list[tuple] = field(default_factory=list)
    # Written after the batch: pickups (and a delivery) whose lines the earlier steps may have filed
    # before any of them (they read them), with the touchpoints that link to them.
    late: Batch = field(default_factory=Batch)
    late_timeline: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(touchpoints=[], subjects=[]))
    pickup_of: dict[int, Pickup] = field(default_factory=dict)  # id(alteration) -> its pickup

    @property
    def world(self) -> World:
        return self.setting.world

    @property
    def now(self) -> datetime:
        return self.setting.world.now

    def snap(self, obj, when: datetime, user: User | None, kind: str = "~") -> None:
        values = {name: getattr(obj, name) for name in CHANGING[type(obj)]}
        if type(obj) is Alteration:
            values["pickup"] = self.pickup_of.get(id(obj))
        self.changes.append(Change(obj, when, user, kind, values))

    def apply(self, obj, name: str, *, actor: User | None, when: datetime, reason: str = "", **kwargs) -> None:
        """A transition the model declares, recorded as `core.workflow.transition_apply` records it."""
        before = obj.status
        getattr(obj, name)(**kwargs)
        self.transitions.append((obj, name, before, obj.status, actor, reason, when))
        if type(obj) in CHANGING:
            self.snap(obj, when, actor)


@customer_story
def installations_training_alterations(world: World, batch: Batch) -> None:
    """Appointments, training and alterations of each new customer, and the demo associate's week."""
    scene = Scene(
        _setting(world),
        batch,
        orders=batch.rows(Order, "orders"),
        lines=batch.rows(OrderLine, "order lines"),
        charges=batch.rows(Charge, "charges"),
        appointments=batch.rows(Appointment, "appointments"),
        enrolments=batch.rows(Enrolment, "training enrolments"),
        requests=batch.rows(TrainingRequest, "training requests"),
        alterations=batch.rows(Alteration, "alterations"),
    )
    scene.purchases = _purchases(batch)
    for story in batch.stories:
        if story.scripted:
            _app_customer(scene, story)
    _demo_associate_week(scene)
    for story in batch.stories:
        if not story.scripted:
            _random_story(scene, story)
    _fill_full_sessions(scene)
    _seat(scene)
    scene.late.stories.append(scene.late_timeline)
    batch.after_write(lambda: _write_records(scene))


def _purchases(batch: Batch) -> dict[int, list[Purchase]]:
    """Every line of the batch's orders with when its goods reached the customer (a delivery still to
    come: when it is due), leaving out what came back or never came, with the services the orders step
    already told of for it."""
    arrives: dict[int, datetime] = {}
    missing: set[int] = set()
    for row in batch.rows(DeliveryLine):
        delivery = row.delivery
        if delivery.recorded_at is None:
            arrives[id(row.order_line)] = delivery.window_start + timedelta(hours=2)
        elif (row.quantity_received or 0) >= row.quantity:
            arrives[id(row.order_line)] = delivery.window_start + timedelta(hours=1)
        else:
            missing.add(id(row.order_line))
    for row in batch.rows(ShipmentLine):
        if row.shipment.delivered_at is not None:
            arrives[id(row.order_line)] = row.shipment.delivered_at
    for row in batch.rows(PickupLine):
        if row.pickup.status == PickupStatus.COLLECTED:
            arrives[id(row.order_line)] = row.pickup.collected_at
    stories = {id(story.customer): story for story in batch.stories}
    told: dict[tuple[str, int], set[str]] = defaultdict(set)
    for story in batch.stories:
        for touchpoint in story.touchpoints:
            if touchpoint.kind in TOLD:
                told[(touchpoint.order_number, touchpoint.product_id)].add(touchpoint.kind)
    found: dict[int, list[Purchase]] = defaultdict(list)
    for line in batch.rows(OrderLine):
        order = line.order
        story = stories.get(id(order.customer))
        if story is None or not line.product.stocked or id(line) in missing or line.active_quantity < 1:
            continue
        told_of = told.get((order.number, line.product.pk), set())
        if TouchpointKind.RETURN in told_of:  # it went back (the returns step's story)
            continue
        when = order.placed_at if order.fulfilment == FulfilmentMethod.CARRY_OUT else arrives.get(id(line))
        found[id(order.customer)].append(Purchase(story, order, line, when, told_of))
    return found


def _random_story(scene: Scene, story: Story) -> None:
    rng = random.Random(f"{SEED}:installations:{story.customer.email}")
    for purchase in scene.purchases.get(id(story.customer), []):
        product, told = purchase.product, purchase.told
        if purchase.arrives is None:
            continue
        wants = product.installable and TouchpointKind.INSTALLATION not in told and id(purchase.line) not in scene.used
        if wants and rng.random() < APPOINTMENT_SHARE:
            _book_soon(scene, purchase, rng)
        if purchase.arrives > scene.now:
            continue
        if product.trainable and TouchpointKind.TRAINING not in told:
            draw = rng.random()
            if draw < ENROLMENT_SHARE:
                _plan_enrolment(scene, purchase, rng)
            elif draw < ENROLMENT_SHARE + REQUEST_SHARE:
                _training_request(scene, purchase, rng)
        if product.alterable and TouchpointKind.ALTERATION not in told and rng.random() < ALTERATION_SHARE:
            _random_alteration(scene, purchase, rng)


# --- appointments -------------------------------------------------------------------------------


def _when(moment: datetime, location) -> str:
    """A moment as the services word it: the location's clock, and its zone."""
    zone = ZoneInfo(location.time_zone)
    return f"{timezone.localtime(moment, zone):%A %d %B %Y, %H:%M} ({zone.key})"


def _is_staff(user: User | None) -> bool:
    """As the services tell staff from a customer acting for themselves (the app's demo customer)."""
    return user is not None and user.email != DEMO_CUSTOMER


def _offers(scene: Scene, product: Product, store: str, only: Staff | None = None) -> list[tuple[ServiceType, list]]:
    """The service types for `product`, the most specific first, each with the associates at `store`
    who have every skill it needs (and a week)."""
    setting = scene.setting
    found = []
    for service_type in setting.service_types:
        if not covers(service_type, product):
            continue
        needed = setting.service_skills[service_type.pk]
        pool = [
            member
            for member in setting.staff_at.get(store, [])
            if needed <= member.skills and member.week and (only is None or member is only)
        ]
        if pool:
            found.append((service_type, pool))
    return found


def _starts(scene: Scene, member: Staff, service_type: ServiceType, day: date, earliest: datetime) -> list[datetime]:
    """The free slots of `member` on `day` as `selectors.free_slots` offers them: on the STEP grid from
    the start of a working span plus the travel, the job and its travel inside the span, clear of
    everything the associate holds, and no sooner than `earliest`."""
    duration, buffer = buffers(service_type)
    found = []
    for opens, closes in member.week.get(day.weekday(), []):
        start = datetime.combine(day, opens, tzinfo=member.zone).astimezone(UTC) + buffer
        until = datetime.combine(day, closes, tzinfo=member.zone).astimezone(UTC)
        while start + duration + buffer <= until:
            if start >= earliest and scene.setting.diary.free(member, start - buffer, start + duration + buffer):
                found.append(start)
            start += STEP
    return found


def _booking(scene: Scene, purchase: Purchase, rng: random.Random, latest: datetime) -> tuple[User, datetime] | None:
    """Who booked and when: at the till with the sale, or by phone or at the store a few days later;
    never after `latest` (the slot less the booking lead) nor after now."""
    order, world = purchase.order, scene.world
    latest = min(latest, scene.now)
    if order.channel == Channel.STORE and order.associate is not None and rng.random() < 0.6:
        at, booker = order.placed_at + timedelta(minutes=rng.randint(5, 25)), order.associate
    else:
        at = order.placed_at + timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 480))
        booker = rng.choice(world.agents) if rng.random() < 0.5 else world.associate_for(rng, purchase.story.home_store)
    if at > latest:
        at = latest - timedelta(minutes=rng.randint(0, 120))
    if booker is None or at < order.placed_at + timedelta(minutes=5):
        return None
    return booker, at


def _book_soon(scene: Scene, purchase: Purchase, rng: random.Random) -> Appointment | None:
    """Booked soon after the goods arrive: a free slot on the first day that has one, up to two weeks on."""
    offers = _offers(scene, purchase.product, purchase.story.home_store)
    if not offers:
        return None
    service_type, pool = offers[0] if rng.random() < 0.75 else rng.choice(offers)
    booking = _booking(scene, purchase, rng, purchase.arrives + timedelta(days=10))
    if booking is None:
        return None
    booker, booked_at = booking
    earliest = max(booked_at + settings.APPOINTMENT_BOOKING_LEAD, purchase.arrives + timedelta(hours=4))
    first = earliest.astimezone(pool[0].zone).date() + timedelta(days=rng.choice((0, 0, 1, 2, 3)))
    for offset in range(14):
        day = first + timedelta(days=offset)
        slots = [(start, member) for member in pool for start in _starts(scene, member, service_type, day, earliest)]
        if slots:
            start, member = rng.choice(slots)
            return _appointment(scene, purchase, service_type, member, start, booker, booked_at, rng)
    return None


def _demo_associate_week(scene: Scene) -> None:
    """The demo associate's jobs today and through this week, from the batch's purchases at her store,
    booked days before (so they may start in the past hours of today)."""
    setting = scene.setting
    if not setting.targets:
        return
    demo, rng, lead = setting.demo_associate, setting.rng, settings.APPOINTMENT_BOOKING_LEAD
    pool = []
    for purchases in scene.purchases.values():
        for purchase in purchases:
            if (
                purchase.story.home_store == demo.store
                and not purchase.story.scripted
                and purchase.product.installable
                and TouchpointKind.INSTALLATION not in purchase.told
                and purchase.arrives is not None
            ):
                offers = _offers(scene, purchase.product, demo.store, only=demo)
                if offers:
                    pool.append((purchase, offers[0][0]))
    remaining = []
    for day, minutes in setting.targets:
        wanted = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=demo.zone)
        for purchase, service_type in pool:
            if id(purchase.line) in scene.used:
                continue
            starts = _starts(scene, demo, service_type, day, purchase.arrives + timedelta(hours=4))
            if not starts:
                continue
            start = min(starts, key=lambda s: abs(s - wanted))
            booking = _booking(scene, purchase, rng, start - lead)
            if booking is None:
                continue
            _appointment(scene, purchase, service_type, demo, start, *booking, rng, keep=True)
            break
        else:
            remaining.append((day, minutes))
    setting.targets = remaining


def _appointment(
    scene: Scene,
    purchase: Purchase,
    service_type: ServiceType,
    member: Staff,
    start: datetime,
    booker: User,
    booked_at: datetime,
    rng: random.Random,
    *,
    keep: bool = False,
) -> Appointment:
    """Booked as `appointment_book` books, then what became of it by now. `keep`: never cancelled nor
    missed (the demo associate's week, the app customer's installation)."""
    story, line = purchase.story, purchase.line
    duration, buffer = buffers(service_type)
    location = scene.world.locations[member.store]
    home = service_type.place == ServicePlace.HOME
    address = story.address
    appointment = Appointment(
        order_line=line,
        customer=story.customer,
        service_type=service_type,
        associate=member.profile,
        location=location,
        address_line1=address.line1 if home else "",
        address_line2=address.line2 if home else "",
        city=address.city if home else "",
        postcode=address.postcode if home else "",
        country=address.country if home else "",
        starts_at=start,
        ends_at=start + duration,
        blocked_from=start - buffer,
        blocked_until=start + duration + buffer,
        booked_by=booker,
        created_at=booked_at,
    )
    scene.appointments.append(appointment)
    scene.used.add(id(line))
    scene.setting.diary.hold(member.profile.pk, member.zone, appointment.blocked_from, appointment.blocked_until)
    scene.snap(appointment, booked_at, booker, "+")
    summary = f"{service_type.name} booked for {_when(start, location)} ({appointment.number})"
    _appointment_touchpoint(story, appointment, booker, booked_at, summary)
    _appointment_message(story, appointment, booked_at + timedelta(minutes=1), "booked")
    _appointment_since(scene, story, appointment, member, rng, booker, keep=keep)
    return appointment


def _appointment_since(
    scene: Scene, story: Story, appointment: Appointment, member: Staff, rng: random.Random, booker: User, *, keep: bool
) -> None:
    """Reminded the day before; cancelled with notice, or missed, or started and completed, up to now."""
    now, name, start = scene.now, appointment.service_type.name, appointment.starts_at
    booked_at, where = appointment.created_at, _when(appointment.starts_at, appointment.location)
    cancel_at = None
    if not keep and rng.random() < CANCELLED_SHARE:
        cancel_at = booked_at + (start - booked_at) * rng.uniform(0.2, 0.9)
    remind_at = max(booked_at, start - settings.APPOINTMENT_REMINDER_BEFORE) + timedelta(minutes=rng.randint(1, 10))
    if remind_at <= now and remind_at < start and (cancel_at is None or remind_at < cancel_at):
        appointment.reminded_at = remind_at
        scene.snap(appointment, remind_at, None)
        _appointment_message(story, appointment, remind_at, "reminder")
    if cancel_at is not None:
        if cancel_at <= now:
            reason = rng.choice(CANCEL_REASONS)
            scene.apply(appointment, "cancel", actor=booker, when=cancel_at, reason=reason)
            _appointment_touchpoint(story, appointment, booker, cancel_at, f"{name} on {where} cancelled: {reason}")
            _appointment_message(story, appointment, cancel_at + timedelta(minutes=1), "cancelled", reason)
        return
    fitter = member.user
    if not keep and start + timedelta(minutes=40) <= now and rng.random() < NO_SHOW_SHARE:
        at, note = start + timedelta(minutes=rng.randint(20, 40)), rng.choice(NO_SHOW_NOTES)
        scene.apply(appointment, "mark_no_show", actor=fitter, when=at, reason=note)
        _appointment_touchpoint(story, appointment, fitter, at, f"{name} on {where}: customer not there ({note})")
        _appointment_message(story, appointment, at + timedelta(minutes=1), "no_show")
        return
    started = start + timedelta(minutes=rng.randint(0, 10))
    if started > now:
        return
    scene.apply(appointment, "start", actor=fitter, when=started)
    _appointment_touchpoint(story, appointment, fitter, started, f"{name} started ({appointment.number})")
    done = appointment.ends_at + timedelta(minutes=rng.randint(-15, 20))
    if done > now:
        return
    customer = appointment.customer
    signed = customer.full_name
    if rng.random() < 0.15:
        signed = f"{rng.choice(('Sam', 'Alex', 'Robin', 'Kim'))} {customer.family_name}"
    items = CHECKLISTS[appointment.service_type.kind]
    skipped = rng.random() < 0.2
    checklist = [{"item": item, "done": not (skipped and item == items[-1])} for item in items]
    notes = f"{items[-1]}: not wanted by the customer." if skipped else rng.choice(JOB_NOTES)
    scene.apply(
        appointment,
        "complete",
        actor=fitter,
        when=done,
        at=done,
        checklist=checklist,
        notes=notes,
        signed_off_by=signed,
    )
    _appointment_touchpoint(story, appointment, fitter, done, f"{name} completed, signed off by {signed}")


def _appointment_touchpoint(story: Story, appointment: Appointment, actor: User | None, at: datetime, summary: str):
    """As `installations.services._touchpoint` writes it."""
    staff = _is_staff(actor)
    story.add(
        TouchpointKind.INSTALLATION,
        Channel.STORE if staff else Channel.APP,
        at,
        summary,
        subject=appointment,
        associate=actor if staff else None,
        location=appointment.location,
        product=appointment.order_line.product,
        order_number=appointment.order_line.order.number,
    )


def _appointment_message(story: Story, appointment: Appointment, at: datetime, event: str, reason: str = "") -> None:
    """The message the service queues, as the timeline shows it once sent."""
    service, product = appointment.service_type.name, appointment.order_line.product.name
    when, number = _when(appointment.starts_at, appointment.location), appointment.number
    where = "" if appointment.service_type.place == ServicePlace.HOME else f" at {appointment.location.name}"
    text = {
        "booked": f"{service} for {product} booked: {when}{where}. Ref {number}.",
        "reminder": f"Reminder: {service} for {product} on {when}{where}. Ref {number}.",
        "cancelled": f"{service} for {product} on {when} cancelled: {reason}.",
        "no_show": f"We missed you: {service} for {product} on {when}{where} (ref {number}). "
        "Book a new time in the app or call us.",
    }[event]
    story.notify(at, text, order_number=appointment.order_line.order.number)


# --- training -----------------------------------------------------------------------------------


def _sessions_for(scene: Scene, product: Product | None, store: str, after: datetime) -> list[TrainingSession]:
    """Sessions for `product` a customer of `store` can enrol in at `after` (online ones from anywhere)."""
    return [
        session
        for session in scene.setting.sessions
        if session.status != SessionStatus.CANCELLED
        and session.starts_at > after + timedelta(hours=2)
        and (session.location.code == store or session.place == TrainingPlace.ONLINE)
        and (product is None or covers(session.course, product))
    ]


def _plan_enrolment(scene: Scene, purchase: Purchase, rng: random.Random) -> None:
    """A seat in one of the next sessions, taken in the app or at the store a few days after the goods came."""
    story = purchase.story
    at = story.at(purchase.arrives, rng.randint(1, 12), 8, 22)
    if at > scene.now:
        return
    sessions = _sessions_for(scene, purchase.product, story.home_store, at)
    if not sessions:
        return
    session = rng.choice(sessions[:2])
    actor = None if rng.random() < 0.6 else scene.world.associate_for(rng, story.home_store)
    plan = EnrolPlan(story, session, purchase.line, at, actor)
    if not scene.setting.seats[session.pk][1] and rng.random() < CANCELLED_SHARE:  # nobody waiting from before
        plan.cancel_at = at + (session.starts_at - at) * rng.uniform(0.3, 0.8)
    scene.plans.append(plan)


def _training_request(scene: Scene, purchase: Purchase, rng: random.Random) -> None:
    """ "I need training" from the app; the older requests followed up by an associate (arranged, with the
    seat they booked, or declined), the recent ones waiting in the queue."""
    story, product = purchase.story, purchase.product
    at = story.at(purchase.arrives, rng.randint(1, 20), 8, 22)
    if at > scene.now:
        return
    request = TrainingRequest(
        customer=story.customer, order_line=purchase.line, note=rng.choice(REQUEST_NOTES), created_at=at
    )
    scene.requests.append(request)
    links = {"product": product, "order_number": purchase.order.number}
    story.add(
        TouchpointKind.TRAINING, Channel.APP, at, f"Asked for training on {product.name}", subject=request, **links
    )
    handled = at + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 6))
    if scene.now - at < REQUEST_ANSWERED_AFTER or handled > scene.now or rng.random() < REQUEST_LEFT_SHARE:
        return
    store = story.home_store
    trainers = [m for m in scene.setting.staff_at.get(store, []) if "appliance_training" in m.skills]
    actor = trainers[0].user if trainers else scene.world.associate_for(rng, store)
    sessions = _sessions_for(scene, product, store, handled) if rng.random() < 0.7 else []
    if sessions:
        session = sessions[0]
        request.status = TrainingRequestStatus.ARRANGED
        request.outcome = f"Booked a seat in {session.course.name}, {_when(session.starts_at, session.location)}"
        scene.plans.append(EnrolPlan(story, session, purchase.line, handled, actor, request=request))
    else:
        request.status, request.outcome = TrainingRequestStatus.DECLINED, rng.choice(REQUEST_DECLINED)
    request.handled_by, request.handled_at = actor, handled
    story.add(
        TouchpointKind.TRAINING,
        Channel.STORE,
        handled,
        f"Training on {product.name} {request.get_status_display().lower()}: {request.outcome}",
        subject=request,
        associate=actor,
        **links,
    )
    story.notify(handled + timedelta(minutes=1), f"Training for your {product.name}: {request.outcome}")


def _fill_full_sessions(scene: Scene) -> None:
    """The sessions that fill up get their seats and a waiting list from the store's customers, who
    enrolled in the app over the last days (anyone may come; their purchase is linked when they have one)."""
    setting = scene.setting
    for session in setting.sessions:
        if session.pk not in setting.full or session.starts_at <= scene.now:
            continue
        planned = {id(plan.story.customer) for plan in scene.plans if plan.session is session}
        seated, waiting = setting.seats[session.pk]
        wanted = session.capacity + WAITING_LIST - seated - waiting - len(planned)
        stories = [
            story
            for story in scene.batch.stories
            if story.home_store == session.location.code and not story.scripted and id(story.customer) not in planned
        ]
        for story in setting.rng.sample(stories, k=min(max(wanted, 0), len(stories))):
            lines = [
                purchase.line
                for purchase in scene.purchases.get(id(story.customer), [])
                if purchase.product.trainable and covers(session.course, purchase.product)
            ]
            at = scene.now - timedelta(days=setting.rng.randint(1, 10), minutes=setting.rng.randint(0, 600))
            scene.plans.append(EnrolPlan(story, session, lines[0] if lines else None, at, None))


def _seat(scene: Scene) -> None:
    """The batch's enrolments, session by session in arrival order, as `training_enrol` seats them (a
    seat while there is one, then the waiting list), `training_cancel` frees them (the first in line is
    promoted) and `training_attendance` records a session that took place."""
    by_session: dict[int, list[EnrolPlan]] = defaultdict(list)
    for plan in scene.plans:
        by_session[plan.session.pk].append(plan)
    for plans in by_session.values():
        session = plans[0].session
        seats = scene.setting.seats[session.pk]
        events = [(plan.at, 0, n, plan) for n, plan in enumerate(plans)]
        events += [
            (plan.cancel_at, 1, n, plan)
            for n, plan in enumerate(plans)
            if plan.cancel_at and plan.cancel_at <= scene.now
        ]
        waiting: list[EnrolPlan] = []
        active: dict[int, EnrolPlan] = {}  # once per customer and session (`enrolment_once_per_session`)
        for at, cancels, _, plan in sorted(events, key=lambda event: event[:3]):
            if cancels:
                if active.get(id(plan.story.customer)) is plan:
                    _unenrol(plan, at, seats, waiting)
                    del active[id(plan.story.customer)]
            elif id(plan.story.customer) in active:  # `training_enrol` refuses: the seat they have stands
                if plan.request is not None:
                    plan.request.enrolment = active[id(plan.story.customer)].enrolment
            else:
                _enrol(scene, plan, seats, waiting)
                active[id(plan.story.customer)] = plan
        if session.status == SessionStatus.HELD:
            _attendance(scene, session, plans)


def _enrolment_touchpoint(plan: EnrolPlan, at: datetime, summary: str, actor: User | None = None) -> None:
    """As `services_training._touchpoint` writes it."""
    staff, line = _is_staff(actor), plan.line
    plan.story.add(
        TouchpointKind.TRAINING,
        Channel.STORE if staff else Channel.APP,
        at,
        summary,
        subject=plan.enrolment,
        associate=actor if staff else None,
        location=plan.session.location,
        product=line.product if line else None,
        order_number=line.order.number if line else "",
    )


def _enrol(scene: Scene, plan: EnrolPlan, seats: list[int], waiting: list[EnrolPlan]) -> None:
    session = plan.session
    seated = seats[0] < session.capacity
    plan.enrolment = Enrolment(
        session=session,
        customer=plan.story.customer,
        order_line=plan.line,
        status=EnrolmentStatus.ENROLLED if seated else EnrolmentStatus.WAITLISTED,
        created_at=plan.at,
    )
    scene.enrolments.append(plan.enrolment)
    if plan.request is not None:
        plan.request.enrolment = plan.enrolment
    seats[0 if seated else 1] += 1
    if not seated:
        waiting.append(plan)
    course, when, where = session.course.name, _when(session.starts_at, session.location), session.location.name
    _enrolment_touchpoint(
        plan, plan.at, f"{'Enrolled in' if seated else 'On the waiting list for'} {course}, {when}", plan.actor
    )
    message = (
        f"Enrolled: {course}, {when} ({where})."
        if seated
        else f"{course}, {when} is full: you are on the waiting list; we tell you when a seat is yours."
    )
    plan.story.notify(plan.at + timedelta(minutes=1), message)


def _unenrol(plan: EnrolPlan, at: datetime, seats: list[int], waiting: list[EnrolPlan]) -> None:
    enrolment, session = plan.enrolment, plan.session
    if enrolment is None or enrolment.status not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED):
        return
    freed = enrolment.status == EnrolmentStatus.ENROLLED
    enrolment.status, enrolment.cancelled_at = EnrolmentStatus.CANCELLED, at
    if plan in waiting:
        waiting.remove(plan)
    seats[0 if freed else 1] -= 1
    course, when = session.course.name, _when(session.starts_at, session.location)
    _enrolment_touchpoint(plan, at, f"Cancelled: {course}, {when}")
    plan.story.notify(at + timedelta(minutes=1), f"Cancelled: {course}, {when}.")
    if freed and waiting and seats[0] < session.capacity:
        first = waiting.pop(0)
        first.enrolment.status, first.enrolment.promoted_at = EnrolmentStatus.ENROLLED, at
        seats[0], seats[1] = seats[0] + 1, seats[1] - 1
        _enrolment_touchpoint(first, at, f"A seat came free: enrolled in {course}, {when}")
        first.story.notify(
            at + timedelta(minutes=1),
            f"A seat came free: you are enrolled in {course}, {when} ({session.location.name}).",
        )


def _attendance(scene: Scene, session: TrainingSession, plans: list[EnrolPlan]) -> None:
    """Recorded by the trainer after the session: who came, who did not."""
    at = session.ends_at + timedelta(minutes=15)
    trainer = next((m.user for m in scene.setting.staff.values() if m.profile.pk == session.trainer_id), None)
    for plan in plans:
        enrolment = plan.enrolment
        if enrolment is None or enrolment.status != EnrolmentStatus.ENROLLED:
            continue
        came = plan.told is not None or random.Random(f"{SEED}:attended:{plan.story.customer.email}").random() < 0.85
        enrolment.status = EnrolmentStatus.ATTENDED if came else EnrolmentStatus.ABSENT
        if plan.told is not None:
            plan.story.subjects.append((plan.told, enrolment))
        elif came:
            _enrolment_touchpoint(plan, at, f"Attended {session.course.name}", trainer)


# --- alterations --------------------------------------------------------------------------------


def _open_time(location, after: datetime, rng: random.Random, days: int = 0) -> datetime:
    """A moment while `location` is open, on the day `days` after `after` (or the next open day), after `after`."""
    zone = ZoneInfo(location.time_zone)
    local = after.astimezone(zone)
    day = local.date() + timedelta(days=days)
    for _ in range(14):
        spans = location.opening_hours.get(WEEKDAYS[day.weekday()]) or []
        if spans:
            opens, closes = _minutes(spans[0][0]), _minutes(spans[-1][1]) - 30
            if day == local.date():
                opens = max(opens, local.hour * 60 + local.minute + 5)
            if opens <= closes:
                minutes = rng.randint(opens, closes)
                return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
        day += timedelta(days=1)
    return after + timedelta(days=days)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass
class Work:
    """An alteration while its story is told: the work order, its fee's order and line, its pickup."""

    story: Story
    alteration: Alteration
    order: Order
    line: OrderLine
    measurements: dict
    pickup: Pickup | None = None


def _kind_for(scene: Scene, product: Product, store: str, rng: random.Random) -> tuple[AlterationKind, list] | None:
    """An alteration kind that fits `product` (FITS; else the most specific that covers it) with the
    associates at `store` able to do it."""
    setting, offers = scene.setting, {}
    for kind in setting.kinds:
        if covers(kind, product):
            pool = [m for m in setting.staff_at.get(store, []) if setting.kind_skills[kind.pk] <= m.skills]
            if pool:
                offers[kind.code] = (kind, pool)
    fitting = [code for code in FITS.get(product.sku, ()) if code in offers]
    if fitting:
        return offers[rng.choice(fitting)]
    return next(iter(offers.values()), None)


def _alteration_touchpoint(work: Work, actor: User, at: datetime, summary: str) -> None:
    """As `services_alterations._touchpoint` writes it."""
    alteration = work.alteration
    work.story.add(
        TouchpointKind.ALTERATION,
        Channel.STORE,
        at,
        summary,
        subject=alteration,
        associate=actor,
        location=alteration.location,
        product=alteration.order_line.product,
        order_number=alteration.order_line.order.number,
    )


def _pickup_touchpoint(scene: Scene, work: Work, actor: User, at: datetime, summary: str) -> None:
    """As `orders.services.pickups._touchpoint` writes it; written after the batch, with the pickup."""
    touchpoint = work.story.add(
        TouchpointKind.PICKUP,
        Channel.STORE,
        at,
        summary,
        associate=actor,
        location=work.pickup.location,
        order_number=work.order.number,
    )
    if touchpoint is not None:
        work.story.touchpoints.pop()  # the one just added
        scene.late_timeline.touchpoints.append(touchpoint)
        scene.late_timeline.subjects.append((touchpoint, work.pickup))


def _charge(order: Order, kind: str, amount: Decimal, at: datetime, actor: User, *, settled=False, note="") -> Charge:
    return Charge(
        order=order,
        kind=kind,
        status=ChargeStatus.SETTLED if settled else ChargeStatus.PENDING,
        amount=amount,
        currency=order.currency,
        note=note,
        actor=actor,
        created_at=at,
        settled_at=at if settled else None,
    )


def _alteration_request(
    scene: Scene, purchase: Purchase, kind: AlterationKind, tailor: Staff, actor: User, at: datetime, work, *, told=None
) -> Work:
    """As `alteration_request` leaves it: the fee sold on an order of its own at the store (held until
    collection, as `order_create` opens an order that arrives without payments) and the work order, due
    after the kind's turnaround. `told`: the orders step's touchpoint of the request, linked instead."""
    story, location = purchase.story, scene.world.locations[purchase.story.home_store]
    fee = quantize(kind.fee, kind.currency)
    order = Order(
        customer=story.customer,
        channel=Channel.STORE,
        location=location,
        associate=actor,
        currency=kind.currency,
        total=fee,
        placed_at=at,
        fulfilment=FulfilmentMethod.PICKUP,
        source=OrderSource.SERVICE,
    )
    line = OrderLine(order=order, product=kind.service_product, quantity=1, unit_price=fee)
    scene.orders.append(order)
    scene.lines.append(line)
    if fee:
        scene.charges.append(_charge(order, ChargeKind.AUTHORISATION, fee, at, actor))
    story.add(
        TouchpointKind.PURCHASE,
        order.channel,
        at,
        purchase_summary(number=order.number, total=fee, currency=order.currency, items=1),
        subject=order,
        associate=actor,
        location=location,
        product=kind.service_product,
        order_number=order.number,
    )
    specification, measurements = work
    due_on = at.astimezone(ZoneInfo(location.time_zone)).date() + timedelta(days=kind.turnaround_days)
    alteration = Alteration(
        order_line=purchase.line,
        customer=story.customer,
        kind=kind,
        location=location,
        specification=specification,
        assigned_to=tailor.profile,
        due_on=due_on,
        fee=fee,
        currency=order.currency,
        service_order=order,
        requested_by=actor,
        created_at=at,
    )
    scene.alterations.append(alteration)
    scene.snap(alteration, at, actor, "+")
    job = Work(story, alteration, order, line, dict(measurements))
    product = purchase.product
    if told is not None:
        story.subjects.append((told, alteration))
    else:
        _alteration_touchpoint(
            job,
            actor,
            at,
            f"{kind.name} of {product.name} ordered, ready by {due_on:%A %d %B %Y} for {fee} {order.currency} "
            f"({alteration.number})",
        )
    story.notify(
        at + timedelta(minutes=1),
        f"{kind.name} of your {product.name} at {location.name}: ready by {due_on:%A %d %B %Y}; we will send you "
        f"a pickup code. Ref {alteration.number}.",
        order_number=purchase.order.number,
    )
    return job


def _alteration_measure(scene: Scene, job: Work, actor: User, at: datetime) -> None:
    alteration = job.alteration
    scene.apply(alteration, "measure", actor=actor, when=at, measurements=job.measurements, at=at)
    _alteration_touchpoint(job, actor, at, f"Measured for {alteration.kind.name.lower()} ({alteration.number})")


def _alteration_ready(scene: Scene, job: Work, actor: User, at: datetime, note: str, *, message: bool = True) -> None:
    """Passed the quality check: ready, with a pickup at the store (`pickup_ready`: a code, a deadline;
    the fee's product is not stocked, so nothing is reserved)."""
    alteration, story = job.alteration, job.story
    scene.apply(alteration, "approve", actor=actor, when=at, note=note, at=at)
    location = alteration.location
    job.pickup = Pickup(
        order=job.order,
        customer=story.customer,
        location=location,
        code=secret_code(),
        ready_at=at,
        expires_at=at + settings.PICKUP_HOLD,
    )
    scene.late.rows(Pickup, "pickups").append(job.pickup)
    scene.late.rows(PickupLine).append(
        PickupLine(pickup=job.pickup, order_line=job.line, quantity=1, holds_stock=False)
    )
    scene.pickup_of[id(alteration)] = job.pickup
    scene.snap(alteration, at, actor)
    deadline = local_deadline(job.pickup)
    _pickup_touchpoint(
        scene, job, actor, at, f"Ready for pickup at {location.name} until {deadline}: 1 item ({job.pickup.number})"
    )
    if message:  # the code is the customer's alone: the timeline shows the message without it
        story.notify(
            at + timedelta(minutes=1),
            f"Ready for pickup at {location.name}. Collect by {deadline}.",
            order_number=job.order.number,
        )
    _alteration_touchpoint(
        job, actor, at, f"{alteration.kind.name} done and checked: ready for pickup ({alteration.number})"
    )


def _alteration_collect(scene: Scene, job: Work, actor: User, at: datetime) -> None:
    """The hand-over (`pickup_hand_over`): the unit counts as shipped and delivered, the hold is captured."""
    pickup, order, line = job.pickup, job.order, job.line
    scene.apply(pickup, "collect", actor=actor, when=at, by=actor, at=at)
    line.quantity_shipped = line.quantity_delivered = 1
    if order.total:
        scene.charges.append(_charge(order, ChargeKind.AUTHORISATION, -order.total, at, actor, note="captured"))
        scene.charges.append(_charge(order, ChargeKind.CAPTURE, order.total, at, actor, settled=True))
    order.status = derived_status([line])
    _pickup_touchpoint(scene, job, actor, at, f"Collected 1 item at {pickup.location.name} ({pickup.number})")
    scene.apply(job.alteration, "collect", actor=actor, when=at, at=at)


def _alteration_cancel(scene: Scene, job: Work, actor: User, at: datetime, reason: str) -> None:
    """Called off before the work started: the fee's unit is cancelled and its hold released (`order_lines_cancel`)."""
    alteration, order, line, story = job.alteration, job.order, job.line, job.story
    scene.apply(alteration, "cancel", actor=actor, when=at, reason=reason, at=at)
    line.quantity_cancelled = 1
    if order.total:
        scene.charges.append(_charge(order, ChargeKind.AUTHORISATION, -order.total, at, actor, note="released"))
    order.status = derived_status([line])
    items = f"1 × {line.product.name}"
    story.add(
        TouchpointKind.PURCHASE,
        order.channel,
        at,
        f"Cancelled {items} ({order.number}); {order.total} {order.currency} back",
        subject=order,
        associate=actor,
        order_number=order.number,
    )
    story.notify(
        at + timedelta(minutes=1),
        f"Order {order.number}: {items} cancelled; {order.total} {order.currency} comes back to you.",
        order_number=order.number,
    )
    _alteration_touchpoint(job, actor, at, f"{alteration.kind.name} cancelled: {reason} ({alteration.number})")


KIND_WORK = {spec.code: spec.work for spec in ALTERATION_KINDS}
ANY_WORK = (("As agreed at the counter", (("length", "as pinned"),)),)


def _random_alteration(scene: Scene, purchase: Purchase, rng: random.Random) -> None:
    """Brought to the home store within ten days of having it: measured, worked, checked, ready and
    collected, as far as the story has got by now; now and then called off before the work starts."""
    story, now, world = purchase.story, scene.now, scene.world
    store = world.locations[story.home_store]
    found = _kind_for(scene, purchase.product, store.code, rng)
    if found is None:
        return
    kind, pool = found
    at = _open_time(store, purchase.arrives, rng, days=rng.randint(0, 10))
    if rng.random() < RECENT_ALTERATION_SHARE:  # brought in lately, after wearing it a while: work in the queue
        at = _open_time(store, max(purchase.arrives, now - timedelta(days=rng.randint(1, 8))), rng)
    if at > now:
        return
    tailor = rng.choice(pool)
    actor = world.associate_for(rng, store.code)
    checkers = [user for user in world.staff_at[store.code] if user.pk != tailor.user.pk]
    job = _alteration_request(scene, purchase, kind, tailor, actor, at, rng.choice(KIND_WORK.get(kind.code, ANY_WORK)))
    counter = rng.random() < 0.8  # measured at the counter, or at a fitting a few days on
    measured = (
        at + timedelta(minutes=rng.randint(5, 15)) if counter else _open_time(store, at, rng, days=rng.randint(1, 3))
    )
    if rng.random() < CANCELLED_SHARE:
        cancel_at = at + timedelta(hours=rng.randint(1, 30))
        if measured < cancel_at and measured <= now:
            _alteration_measure(scene, job, actor, measured)
        if cancel_at <= now:
            _alteration_cancel(scene, job, actor, cancel_at, rng.choice(ALTERATION_CANCEL_REASONS))
        return
    if measured > now:
        return
    _alteration_measure(scene, job, actor if counter else tailor.user, measured)
    started = _open_time(store, measured, rng, days=1)
    if started > now:
        return
    scene.apply(job.alteration, "start", actor=tailor.user, when=started)
    zone = ZoneInfo(store.time_zone)
    submitted = max(
        datetime.combine(job.alteration.due_on - timedelta(days=1), time(15, rng.randint(0, 59)), tzinfo=zone),
        started + timedelta(hours=2),
    )
    if submitted > now:
        return
    scene.apply(job.alteration, "submit", actor=tailor.user, when=submitted)
    checker = rng.choice(checkers)
    if rng.random() < REWORK_SHARE:
        note, checked = rng.choice(REWORK_NOTES), submitted + timedelta(minutes=rng.randint(30, 90))
        if checked > now:
            return
        scene.apply(job.alteration, "rework", actor=checker, when=checked, reason=note, note=note)
        submitted = _open_time(store, checked, rng, days=1)
        if submitted > now:
            return
        scene.apply(job.alteration, "submit", actor=tailor.user, when=submitted)
    ready = _open_time(store, submitted + timedelta(minutes=20), rng, days=rng.choice((0, 0, 1)))  # checked when free
    if ready > now:
        return
    _alteration_ready(scene, job, checker, ready, rng.choice(QUALITY_NOTES))
    collected = min(
        _open_time(store, ready, rng, days=rng.randint(0, 5)), job.pickup.expires_at - timedelta(hours=2)
    )  # the story's customers come in time
    if collected <= now:
        _alteration_collect(scene, job, world.associate_for(rng, store.code), collected)


# --- the app's demo customer --------------------------------------------------------------------

APP_DISHWASHER = "RV-APP-5004"


def _app_customer(scene: Scene, story: Story) -> None:
    """A dishwasher bought in the app two days ago, delivered in two days and installed by the demo
    associate that afternoon; a seat in the steam oven masterclass (and the cooking workshop the story
    tells of, attended); the trousers the story says are being hemmed, ready for pickup."""
    purchases = {p.product.sku: p for p in scene.purchases.get(id(story.customer), [])}
    _app_dishwasher(scene, story)
    if (oven := purchases.get("RV-APP-5002")) is not None:
        _app_training(scene, story, oven)
    if (trousers := purchases.get("RV-WOM-8002")) is not None:
        _app_trousers(scene, story, trousers)


def _app_dishwasher(scene: Scene, story: Story) -> None:
    world, demo = scene.world, scene.setting.demo_associate
    product = world.products[APP_DISHWASHER]
    today = world.now.astimezone(story.zone).date()
    placed = datetime.combine(today - timedelta(days=2), time(20, 40), tzinfo=story.zone)
    order = Order(customer=story.customer, channel=Channel.APP, placed_at=placed)
    unit_price = quantize(product.price / (1 + VAT_RATE), product.currency)
    line = OrderLine(order=order, product=product, quantity=1, unit_price=unit_price, tax=product.price - unit_price)
    order.total = line.amount
    scene.orders.append(order)
    scene.lines.append(line)
    links = {"product": product, "order_number": order.number}
    story.add(
        TouchpointKind.PURCHASE,
        Channel.APP,
        placed,
        f"Bought {product.name} in the app ({eur(order.total)})",
        subject=order,
        **links,
    )
    window = datetime.combine(today + timedelta(days=2), time(8, 0), tzinfo=story.zone)
    loaded, _ = fulfilment.appointment(story, scene.late, order, [line], window, False)
    fulfilment.settle(scene.batch, order, [line], shipped=loaded, now=world.now)
    story.notify(
        placed + timedelta(minutes=3),
        f"Delivery of order {order.number} planned for {window:%a %d %b}, between 08:00 and 12:00",
        **links,
    )
    offers = _offers(scene, product, demo.store, only=demo)
    if not offers:
        return
    service_type = offers[0][0]
    booked_at = placed + timedelta(minutes=4)
    earliest = max(window + timedelta(hours=5), booked_at + settings.APPOINTMENT_BOOKING_LEAD)
    for offset in range(7):
        starts = _starts(scene, demo, service_type, window.date() + timedelta(days=offset), earliest)
        if starts:
            purchase = Purchase(story, order, line, window + timedelta(hours=4))
            _appointment(
                scene, purchase, service_type, demo, starts[0], story.customer.user, booked_at, story.rng, keep=True
            )
            return


def _app_training(scene: Scene, story: Story, oven: Purchase) -> None:
    world, user = scene.world, story.customer.user
    told = next(
        (tp for tp in story.touchpoints if tp.kind == TouchpointKind.TRAINING and tp.product_id == oven.product.pk),
        None,
    )
    at_store = [s for s in scene.setting.sessions if s.location.code == story.home_store]
    if told is not None:
        held = [
            s
            for s in at_store
            if s.status == SessionStatus.HELD
            and s.course.code == "cooking-induction-steam"
            and s.starts_at < told.occurred_at
        ]
        if held:
            session = held[-1]
            enrolled = datetime.combine(
                session.starts_at.astimezone(story.zone).date() - timedelta(days=6), time(21, 5), story.zone
            )
            scene.plans.append(EnrolPlan(story, session, oven.line, enrolled, user, told=told))
    upcoming = [s for s in at_store if s.course.code == "steam-oven-masterclass" and s.starts_at > world.now]
    if upcoming:
        enrolled = datetime.combine(
            world.now.astimezone(story.zone).date() - timedelta(days=5), time(21, 10), story.zone
        )
        scene.plans.append(EnrolPlan(story, upcoming[0], oven.line, min(enrolled, world.now), user))


def _app_trousers(scene: Scene, story: Story, trousers: Purchase) -> None:
    """As the story tells it: booked at the counter by the demo associate, hem raised 4 cm, ready three
    days later (the story has the message), not collected yet."""
    told = next(
        (
            tp
            for tp in story.touchpoints
            if tp.kind == TouchpointKind.ALTERATION and tp.product_id == trousers.product.pk
        ),
        None,
    )
    kind = next((k for k in scene.setting.kinds if k.code == "hemming"), None)
    tailors = [m for m in scene.setting.staff_at.get(story.home_store, []) if "tailoring" in m.skills]
    if told is None or kind is None or not tailors:
        return
    sanne, tailor, at = scene.world.users[DEMO_ASSOCIATE], tailors[0], told.occurred_at
    work = ("Raise the hem 4 cm for flat shoes; keep the original finish", (("length", "96 cm"), ("taken up", "4 cm")))
    job = _alteration_request(scene, trousers, kind, tailor, sanne, at, work, told=told)
    _alteration_measure(scene, job, sanne, at + timedelta(minutes=8))
    zone = ZoneInfo(job.alteration.location.time_zone)
    due = job.alteration.due_on
    steps = (
        ("start", tailor.user, datetime.combine(at.astimezone(zone).date() + timedelta(days=1), time(10, 5), zone)),
        ("submit", tailor.user, datetime.combine(due, time(15, 10), zone)),
    )
    for name, actor, when in steps:
        if when > scene.now:
            return
        scene.apply(job.alteration, name, actor=actor, when=when)
    ready = datetime.combine(due, time(16, 20), zone)
    if ready <= scene.now:
        _alteration_ready(scene, job, sanne, ready, "Even and pressed", message=False)


# --- after the batch is written -----------------------------------------------------------------


def _write_records(scene: Scene) -> None:
    """The history rows of the appointments and alterations, state by state (the appointment page reads
    them), and each state transition as `transition_apply` records it: both need the rows' keys."""
    scene.late.write(Counter())  # counted by no one: a few pickups and the app customer's delivery
    ready = []
    for alteration in scene.alterations:
        if id(alteration) in scene.pickup_of:
            alteration.pickup = scene.pickup_of[id(alteration)]
            ready.append(alteration)
    Alteration.objects.bulk_update(ready, ["pickup"], batch_size=BATCH_SIZE)
    for model in CHANGING:
        historical = model.history.model
        rows = []
        for change in scene.changes:
            if type(change.obj) is not model:
                continue
            obj = change.obj
            values = {f.attname: getattr(obj, f.attname) for f in historical.tracked_fields}
            for name, value in change.values.items():
                values[model._meta.get_field(name).attname] = getattr(value, "pk", value)
            rows.append(
                historical(
                    history_date=change.at,
                    history_user_id=change.user.pk if change.user else None,
                    history_change_reason=CHANGE_REASON,
                    history_type=change.kind,
                    **values,
                )
            )
        historical.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    types = {model: ContentType.objects.get_for_model(model).pk for model in (Appointment, Alteration, Pickup)}
    StateTransition.objects.bulk_create(
        [
            StateTransition(
                subject_type_id=types[type(obj)],
                subject_id=obj.pk,
                transition=name,
                from_state=before,
                to_state=after,
                actor=actor,
                reason=reason,
                at=when,
            )
            for obj, name, before, after, actor, reason, when in scene.transitions
        ],
        batch_size=BATCH_SIZE,
    )
