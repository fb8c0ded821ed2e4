"""What an import's 100,000 rows still paid for at commit and in index entries (issue 13):

* a customer's shop, creator and last editor are no longer checked by the database (a
  lookup each per row at commit), and the creator and editor are no longer indexed: only
  the rare deletion of a login reads them, and Django's on_delete still empties them;
* the unique index on a phone (an email) per shop is built with ``varchar_pattern_ops``,
  so that it also serves the search by the first digits (letters): the separate pattern
  index of migration 0002 goes. SQLite has no operator classes: its unique index stays;
* the shop's indexes on a care status, a staff member, a collaborator and a birth month
  hold the customers that have one (an import's rows mostly have none).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PATTERN_INDEXES = {
    "phone_prefix_idx": "customers_customerphone (tenant_id, normalized varchar_pattern_ops)",
    "email_prefix_idx": "customers_customeremail (tenant_id, email varchar_pattern_ops)",
}


def drop_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in PATTERN_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def add_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, on in PATTERN_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_membership_phone'),
        ('customers', '0006_bulk_write_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='customeremail',
            name='email_unique_per_shop',
        ),
        migrations.RemoveConstraint(
            model_name='customerphone',
            name='phone_unique_per_shop',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_care_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_staff_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_ctv_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='customer_birth_month_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='cust_created_by_set_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='cust_updated_by_set_idx',
        ),
        migrations.AlterField(
            model_name='customer',
            name='created_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='customer',
            name='tenant',
            field=models.ForeignKey(db_constraint=False, db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, to='crm.tenant'),
        ),
        migrations.AlterField(
            model_name='customer',
            name='updated_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('care_status__isnull', False)), fields=['tenant', 'care_status'], name='customer_care_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('assigned_staff__isnull', False)), fields=['tenant', 'assigned_staff'], name='customer_staff_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('collaborator__isnull', False)), fields=['tenant', 'collaborator'], name='customer_ctv_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('birth_month__isnull', False)), fields=['tenant', 'birth_month'], name='customer_birth_month_idx'),
        ),
        migrations.AddConstraint(
            model_name='customeremail',
            constraint=models.UniqueConstraint(fields=('tenant', 'email'), name='email_unique_per_shop', opclasses=['int8_ops', 'varchar_pattern_ops']),
        ),
        migrations.AddConstraint(
            model_name='customerphone',
            constraint=models.UniqueConstraint(fields=('tenant', 'normalized'), name='phone_unique_per_shop', opclasses=['int8_ops', 'varchar_pattern_ops']),
        ),
        migrations.RunPython(drop_pattern_indexes, add_pattern_indexes),
    ]
