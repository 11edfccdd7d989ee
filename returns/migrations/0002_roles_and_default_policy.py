from decimal import Decimal

from django.db import migrations

from core.roles import ALL, grant_role_permissions

FRONT_LINE = {
    # request for a customer, receive, inspect and resolve; approve up to their approval limit
    "returnrequest": ("view", "add", "change", "approve"),
    "returnline": ("view",),
    "inspecteditem": ("view", "add"),
    "returnpolicy": ("view",),
    "returnrule": ("view",),
    # issue (up to their approval limit) and redeem at the till
    "voucher": ("view", "add"),
    "vouchertransaction": ("view", "add"),
}

GRANTS = {
    "associate": FRONT_LINE,
    "customer_service": FRONT_LINE,
    # managers also keep the policy and void vouchers or reverse redemptions
    "manager": FRONT_LINE
    | {
        "returnpolicy": ("view", "add", "change"),
        "returnrule": ALL,
        "voucher": ("view", "add", "change"),
    },
    "admin": {model: ALL for model in FRONT_LINE} | {"returnrequest": (*ALL, "approve")},
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "returns", GRANTS)


def default_policy(apps, schema_editor):
    """The retailer starts with one policy for euros; managers change it in the admin."""
    ReturnPolicy = apps.get_model("returns", "ReturnPolicy")
    ReturnPolicy.objects.get_or_create(
        currency="EUR",
        defaults={
            "auto_approve_limit": Decimal("100.00"),
            "return_rate_threshold": Decimal("30.00"),
            "return_rate_min_units": 5,
            "return_rate_window_days": 365,
            "store_credit_bonus_percent": Decimal("10.00"),
            "voucher_valid_days": 365,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial"), ("core", "0002_roles")]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(default_policy, migrations.RunPython.noop),
    ]
