from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0002_order_stats_covering_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(condition=models.Q(("status", "delivered")),
                               fields=["tenant", "delivered_at"],
                               include=("delivered_month", "total_amount", "returned_amount",
                                        "customer"),
                               name="order_delivered_idx"),
        ),
    ]
