import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_products(apps, schema_editor):
    ReturnLine = apps.get_model("returns", "ReturnLine")
    OrderLine = apps.get_model("orders", "OrderLine")
    product = OrderLine.objects.filter(pk=OuterRef("order_line_id")).values("product_id")
    ReturnLine.objects.update(product_id=Subquery(product))


class Migration(migrations.Migration):
    dependencies = [("core", "0011_notification_order_and_secrets"), ("returns", "0004_index_tidy")]

    operations = [
        migrations.AddField(
            model_name="returnline",
            name="product",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.product",
            ),
        ),
        migrations.RunPython(copy_products, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="returnline",
            name="product",
            field=models.ForeignKey(
                help_text="The order line's product, copied: the analytics group returns by product without "
                "reading the order lines",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.product",
            ),
        ),
    ]
