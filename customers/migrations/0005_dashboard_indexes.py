from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0004_registration_requests_avatar_path"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["tenant", "lifecycle_stage"], name="customer_stage_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(condition=models.Q(("membership_state", "pending")),
                               fields=["tenant", "created_at", "id"],
                               name="customer_pending_idx"),
        ),
    ]
