"""The orders part of every demo customer's story: what they bought, and what followed each order
(delivery or pickup, installation, training, alteration, complaints and goodwill vouchers, surveys,
reviews, likes, and the messages about them); for the app's demo customer, the scripted sofa-set
story. Registered with `core.demo.registry`, told from each customer's own generator. Returns, and
the rows behind the vouchers told of here, are the returns app's step (`returns/demo.py`), which
runs after this one and reads these orders.

Shelf prices include VAT; an order's total is the sum of its lines, and each order has one purchase
touchpoint linked to it, as the services keep them. (Order numbers come from the model's random
default, as in production.)
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from core.choices import Channel, LocationKind, TouchpointKind
from core.demo import HISTORY_DAYS
from core.demo.catalogue import APPLIANCES, FASHION, FURNITURE, category_of
from core.demo.places import TIME_ZONES, WAREHOUSE, WEEKDAYS
from core.demo.registry import customer_story
from core.demo.staff import DEMO_AGENT, DEMO_ASSOCIATE, DEMO_MANAGER
from core.demo.story import Story
from core.demo.world import World
from core.demo.writer import Batch
from core.models import Customer, Location, Product
from core.money import quantize
from orders import demo_fulfilment as fulfilment
from orders.choices import FulfilmentMethod
from orders.models import Order, OrderLine

VAT_RATE = Decimal("0.21")  # standard rate in both NL and BE
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


# The wording of the timeline.
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


def eur(value: Decimal) -> str:
    return f"€{value:,.2f}"


@customer_story
def orders_and_aftercare(world: World, batch: Batch) -> None:
    """Each new customer's orders and what followed them; the app's demo customer gets its scripted story."""
    for story in batch.stories:
        if story.scripted:
            _app_customer_orders(story, batch)
        else:
            _random_orders(story, batch)


def _random_orders(story: Story, batch: Batch) -> None:
    """1-3 orders in the last HISTORY_DAYS days, oldest first, each with the story that followed."""
    rng = story.rng
    days_ago = sorted(rng.sample(range(HISTORY_DAYS), rng.choices((1, 2, 3), (50, 35, 15))[0]), reverse=True)
    placed = [_random_order(story, batch, d) for d in days_ago]
    story.first_purchase_at = placed[0].placed_at


def _random_order(story: Story, batch: Batch, days_ago: int) -> Order:
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
    items = _basket(rng, world)
    order, lines = _place_order(story, batch, channel, location, associate, items, placed_at, discounts=True)
    _aftercare(story, batch, order, lines)
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
    story: Story, batch: Batch, channel: str, location, associate, items, placed_at: datetime, *, discounts: bool
) -> tuple[Order, list[OrderLine]]:
    """The order, its lines (the total is their sum) and its purchase touchpoint, linked to the order."""
    order = Order(customer=story.customer, channel=channel, location=location, associate=associate, placed_at=placed_at)
    lines = [_line(story.rng if discounts else None, order, product, quantity) for product, quantity in items]
    order.total = sum((line.amount for line in lines), Decimal("0.00"))
    batch.rows(Order, "orders").append(order)
    batch.rows(OrderLine, "order lines").extend(lines)
    where = f"in {location.name}" if location else {"web": "online", "app": "in the app", "phone": "by phone"}[channel]
    story.add(
        TouchpointKind.PURCHASE,
        channel,
        placed_at,
        f"Bought {_describe(lines)} {where} ({eur(order.total)})",
        subject=order,
        location=location,
        associate=associate,
        product=lines[0].product,
        order_number=order.number,
    )
    return order, lines


def _line(rng: random.Random | None, order: Order, product: Product, quantity: int) -> OrderLine:
    """Shelf prices include VAT. A line holds the net unit price and discount, and the VAT is what makes the
    line come to the shelf price (less any discount) to the cent, as a till computes it."""
    rate = rng.choices((Decimal(0), Decimal("0.10"), Decimal("0.15")), (85, 10, 5))[0] if rng else Decimal(0)
    currency = product.currency
    to_pay = quantize(product.price * quantity * (1 - rate), currency)
    unit_price = quantize(product.price / (1 + VAT_RATE), currency)
    discount = quantize(unit_price * quantity * rate, currency)
    tax = to_pay - (unit_price * quantity - discount)
    return OrderLine(order=order, product=product, quantity=quantity, unit_price=unit_price, discount=discount, tax=tax)


def _describe(lines: list[OrderLine]) -> str:
    first = lines[0]
    name = first.product.name if first.quantity == 1 else f"{first.quantity} × {first.product.name}"
    rest = len(lines) - 1
    return name + (f" and {rest} more item{'s' if rest > 1 else ''}" if rest else "")


def _aftercare(story: Story, batch: Batch, order: Order, lines: list[OrderLine]) -> None:
    """Delivery or pickup, then services, then what the customer said about it."""
    arrived, delivered, shipped = _fulfil(story, batch, order, lines)
    fulfilment.settle(batch, order, lines, shipped=shipped, now=story.world.now)
    for line in lines:
        _services(story, order, line, arrived)
    _feedback(story, order, lines, arrived, delivered)


def _fulfil(story: Story, batch: Batch, order: Order, lines: list[OrderLine]) -> tuple[datetime, bool, datetime | None]:
    """When the goods reached the customer (maybe in the future), whether a carrier brought them,
    and when they left the warehouse (None: taken home from the till, or not yet)."""
    bulky = any(line.product.installable or category_of(line.product) in FURNITURE for line in lines)
    if order.channel == Channel.STORE and not bulky:
        for line in lines:
            line.quantity_shipped = line.quantity_delivered = line.quantity
        return order.placed_at, False, None
    if bulky or story.rng.random() < 0.5:
        arrived, shipped = _deliver(story, batch, order, lines, bulky)
        return arrived, True, shipped
    arrived, ready = _collect(story, batch, order, lines)
    return arrived, False, ready


def _deliver(
    story: Story, batch: Batch, order: Order, lines: list[OrderLine], bulky: bool
) -> tuple[datetime, datetime]:
    """(arrived, left the warehouse)."""
    rng, world = story.rng, story.world
    short = False
    if bulky:
        slot_start = rng.choice((8, 12, 16))
        when = story.at(order.placed_at, rng.randint(3, 12), slot_start, slot_start + 4)
        slot = f"between {slot_start:02d}:00 and {slot_start + 4:02d}:00"
        window = when.replace(hour=slot_start, minute=0)
        assembly = any(line.product.installable for line in lines)
        shipped, short = fulfilment.appointment(story, batch, order, lines, window, assembly)
    else:
        when = story.at(order.placed_at, rng.randint(1, 3), 9, 18)
        slot = "during the day"
        shipped = fulfilment.parcel(story, batch, order, lines, when)
    warehouse = world.locations[WAREHOUSE]
    links = {"order_number": order.number, "product": lines[0].product}
    story.notify(
        order.placed_at + timedelta(minutes=rng.randint(2, 90)),
        f"Delivery of order {order.number} planned for {when.astimezone(story.zone):%a %d %b}, {slot}",
        **links,
    )
    signer = story.customer.given_name if rng.random() < 0.85 else "a neighbour"
    summary = f"Delivered {_describe(lines)} to {story.address.line1}, {story.address.city}; signed for by {signer}"
    if short:
        summary = f"Delivered to {story.address.line1}, but one {lines[0].product.name} was not on the truck"
    story.add(TouchpointKind.DELIVERY, Channel.APP, when, summary, location=warehouse, **links)
    return when, shipped


def _collect(story: Story, batch: Batch, order: Order, lines: list[OrderLine]) -> tuple[datetime, datetime | None]:
    """(collected, ready at the point: None while still on its way)."""
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
    return collected, fulfilment.pickup(story, batch, order, lines, point, ready, collected)


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
    appliance = category_of(product) in APPLIANCES or product.trainable
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
    title = rng.choice(TRAINING_TITLES.get(category_of(product), ("Getting started",)))
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
    what = rng.choice(ALTERATIONS.get(category_of(product), ("adjusted to fit",)))
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
            f"Goodwill voucher of {eur(amount)} issued after the complaint about: {issue}",
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


# The app's demo customer: one complete story.

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
        (3, "16:30", K.NOTIFICATION, C.APP, None, "ST-AMS", "RV-WOM-8002", clothes,
         "Your altered Wide-leg trousers, navy are ready for collection at Ravelijn Amsterdam Zuid"),
        (2, "20:55", K.TESTIMONIAL, C.APP, None, None, None, None,
         "Testimonial submitted for publication: “The Amsterdam team turned a missing sofa piece into great "
         "service”"),
    ]
    # fmt: on


def _app_customer_orders(story: Story, batch: Batch) -> None:
    """The sofa set with its missing module, the oven, the clothes: three orders and every touchpoint after
    them but the returns app's (the goodwill voucher spent on the oven, the coat sent back)."""
    world = story.world
    orders = [_scripted_order(story, batch, *spec) for spec in APP_CUSTOMER_ORDERS]
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


def _scripted_order(story: Story, batch: Batch, days_ago, channel, store, associate, items) -> Order:
    world = story.world
    location = world.locations[store] if store else None
    zone = world.zone(location.time_zone) if location else story.zone
    placed_at = datetime.combine(world.now.astimezone(zone).date() - timedelta(days=days_ago), time(15, 4), zone)
    products = [(world.products[sku], quantity) for sku, quantity in items]
    seller = world.users[associate] if associate else None
    order, lines = _place_order(story, batch, channel, location, seller, products, placed_at, discounts=False)
    # Everything in the scripted story has arrived; the store sale was paid at the till.
    order.fulfilment = FulfilmentMethod.CARRY_OUT if channel == Channel.STORE else FulfilmentMethod.DELIVERY
    for line in lines:
        line.quantity_shipped = line.quantity_delivered = line.quantity
    fulfilment.settle(batch, order, lines, shipped=placed_at + timedelta(days=1), now=world.now)
    return order
