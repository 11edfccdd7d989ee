from django.db import migrations

from core.roles import ALL, grant_role_permissions

FRONT_LINE = {
    "order": ("view", "add"),
    "orderline": ("view",),
    "charge": ("view", "add"),
    "shipment": ("view",),
    "shipmentline": ("view",),
    "trackingevent": ("view",),
    "carrier": ("view",),
    "delivery": ("view", "add", "change"),
    "deliveryline": ("view",),
    "deliveryexception": ("view", "change"),
    "pickup": ("view", "add", "change"),
    "pickupline": ("view",),
}

GRANTS = {
    "associate": FRONT_LINE,
    "customer_service": FRONT_LINE,
    "manager": FRONT_LINE | {"order": ("view", "add", "change"), "charge": ("view", "add", "change")},
    "admin": {model: ALL for model in FRONT_LINE},
    # POS and e-commerce systems push orders and shipments with an account in this role.
    "integration": {
        "order": ("view", "add", "change"),
        "orderline": ("view",),
        "shipment": ("view", "add"),
        "shipmentline": ("view",),
        "carrier": ("view",),
    },
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "orders", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_orders_fulfilment")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
