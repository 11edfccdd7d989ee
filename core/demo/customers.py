"""The customers: generated ones (who they are, where they live, how to reach them) and the record of
the app's demo customer behind customer@… . What they bought and what followed come from the apps' steps.

Customer n is drawn from its own `random.Random` seeded with n (see `Story`), and is found again by its
"demo" external id n, so a run creates only the customers that are missing. (Customer numbers come
from the model's random default, as in production.)
"""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from core.choices import Channel, ContactChannel, TouchpointKind
from core.demo import HISTORY_DAYS, SEED
from core.demo.places import TIME_ZONES
from core.demo.staff import DEMO_CUSTOMER, ascii_slug
from core.demo.story import Story
from core.demo.world import World
from core.demo.writer import Batch
from core.models import Customer, CustomerAddress, CustomerExternalId

DEMO_SOURCE = "demo"
APP_CUSTOMER_EXTERNAL_ID = "app-customer"

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
TESTIMONIALS = (
    "The team went out of their way to find the right sofa for our small flat.",
    "Installer was on time, tidy and explained everything twice.",
    "Best after-sales service I have had from a furniture shop.",
)


def missing_numbers(target: int) -> list[int]:
    """The demo numbers 1..target that have no customer yet."""
    have = {
        int(value)
        for value in CustomerExternalId.objects.filter(source=DEMO_SOURCE).values_list("external_id", flat=True)
        if value.isdigit()
    }
    return [n for n in range(1, target + 1) if n not in have]


def _customer_rows(batch: Batch) -> tuple[list, list, list]:
    """Where a batch's customers, addresses and external ids go (the ids are bookkeeping: not counted)."""
    return (
        batch.rows(Customer, "customers"),
        batch.rows(CustomerAddress, "customer addresses"),
        batch.rows(CustomerExternalId),
    )


def generated_customers(numbers: list[int], world: World) -> Batch:
    """Demo customers `numbers` with their addresses, one story each for the apps' steps to tell."""
    batch = Batch()
    customers, addresses, external_ids = _customer_rows(batch)
    for n in numbers:
        rng = random.Random(f"{SEED}:customer:{n}")
        city = rng.choices(CITIES, CITY_WEIGHTS)[0]
        customer = _new_customer(rng, n, city)
        home = _address(rng, city, customer, "home", is_default=True)
        customers.append(customer)
        addresses.append(home)
        if rng.random() < 0.2:
            addresses.append(_address(rng, city, customer, rng.choice(("work", "parents", "holiday")), False))
        external_ids.append(CustomerExternalId(customer=customer, source=DEMO_SOURCE, external_id=str(n)))
        batch.stories.append(Story(rng, world, customer, home, city.store))
    return batch


def finish_stories(batch: Batch) -> None:
    """Core's part of a generated customer's story that comes after the apps' steps: the customer record
    is dated some years before the first purchase, and now and then a customer refers a friend or writes
    a testimonial. After, because it draws from the same generator (and needs the first purchase)."""
    for story in batch.stories:
        if story.scripted:
            continue
        rng = story.rng
        first = story.first_purchase_at or story.world.now
        years_before = rng.choice((0, 0, 0, 1, 2, 3, 5))
        story.customer.created_at = first - timedelta(days=365 * years_before + rng.randint(0, 300), minutes=5)
        _referral_and_testimonial(story)


def app_customer(world: World) -> Batch | None:
    """The customer behind customer@…, created once; the apps' steps tell its scripted story."""
    user = world.users[DEMO_CUSTOMER]
    if Customer.objects.filter(user=user).exists():
        return None
    batch = Batch()
    customers, addresses, external_ids = _customer_rows(batch)
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
    customers.append(customer)
    addresses.append(home)
    external_ids.append(CustomerExternalId(customer=customer, source=DEMO_SOURCE, external_id=APP_CUSTOMER_EXTERNAL_ID))
    rng = random.Random(f"{SEED}:app-customer")
    batch.stories.append(Story(rng, world, customer, home, "ST-AMS", scripted=True))
    return batch


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
    email = f"{ascii_slug(given)}.{ascii_slug(family)}{n}@{rng.choice(EMAIL_DOMAINS)}"
    preferred = rng.choices(ContactChannel.values, (62, 26, 12))[0]
    consents = {channel: rng.random() < 0.7 for channel in ContactChannel.values}
    consents[preferred] = rng.random() < 0.93
    return Customer(
        given_name=given,
        family_name=family,
        email=email,
        alternate_email=f"{ascii_slug(given)}{n}@work.example.net" if rng.random() < 0.08 else "",
        phone=_phone(rng, city.country) if rng.random() < 0.92 else "",
        alternate_phone=_phone(rng, city.country) if rng.random() < 0.1 else "",
        time_zone=TIME_ZONES[city.country],
        language=language,
        preferred_channel=preferred,
        consent_email=consents[ContactChannel.EMAIL],
        consent_sms=consents[ContactChannel.SMS],
        consent_push=consents[ContactChannel.PUSH],
    )


def _referral_and_testimonial(story: Story) -> None:
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
