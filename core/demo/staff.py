"""The retailer's people: a login for every role and for the app's demo customer, the rest of the team
(who cannot sign in), their roles, associate profiles and the verified e-mail addresses allauth
signs them in by."""

import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from core.choices import Role
from core.demo.places import RETURNS_CENTRE, WAREHOUSE
from core.demo.writer import bulk_create
from core.models import AssociateProfile, Location, Skill, User

DEMO_DOMAIN = "demo.aftercare.test"
DEMO_PASSWORD = "aftercare-demo"  # noqa: S105 - a published demo credential, printed by the command


def ascii_slug(text: str) -> str:
    """'Céline Van Damme' -> 'celinevandamme', for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


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
    UserSpec(DEMO_MANAGER, "Pieter", "Bakker", Role.MANAGER, "ST-AMS", ("returns_inspection",), "2500.00", "E00003",
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
APPROVAL_LIMITS = {Role.ASSOCIATE: "50.00", Role.CUSTOMER_SERVICE: "100.00", Role.MANAGER: "2500.00"}


def user_specs() -> list[UserSpec]:
    team = [
        UserSpec(
            email=f"{ascii_slug(first)}.{ascii_slug(last)}@{DEMO_DOMAIN}",
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


def ensure_users(locations: dict[str, Location], skills: dict[str, Skill], counts: Counter) -> dict[str, User]:
    """Logins for every role and the demo customer; the rest of the team cannot sign in."""
    specs = user_specs()
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
    bulk_create(User, created)
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
    bulk_create(AssociateProfile, profiles, history=True)
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
    bulk_create(EmailAddress, rows)
    counts["e-mail addresses"] += len(rows)
