"""The customer list sorted by delivered orders walks this index (orders.extensions'
StatsSortParts), as the spend, debt and last-order sorts walk theirs."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0004_order_search_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customerstats",
            index=models.Index(fields=["tenant", "delivered_orders"], name="stats_orders_idx"),
        ),
    ]
