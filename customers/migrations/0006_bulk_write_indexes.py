"""Indexes and checks a bulk write pays for (issue 13's import speed):

* the customer's foreign keys that are mostly empty lose their full index for one on the
  rows where they are set (an import sets none of them); the customer's lone index on the
  shop goes (every other index starts with it). Only the indexes change: the foreign key
  constraints stay as they are (Django's AlterField would drop and re-add them, checking
  every row again), hence SeparateDatabaseAndState;
* a phone's, email's and tag link's shop is not checked by the database any more (it
  copies its customer's, which is), nor indexed alone (their unique constraints start
  with it).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


UNINDEXED = ["tenant", "referrer", "assigned_staff", "collaborator", "care_status",
             "created_by", "updated_by"]


def _index_names(apps, schema_editor):
    """The names Django gave these fields' indexes (a hash of the table and column)."""
    model = apps.get_model("customers", "Customer")
    table = model._meta.db_table
    for name in UNINDEXED:
        column = model._meta.get_field(name).column
        yield schema_editor._create_index_name(table, [column], suffix=""), table, column


def drop_full_indexes(apps, schema_editor):
    for index, _table, _column in _index_names(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


def add_full_indexes(apps, schema_editor):
    for index, table, column in _index_names(apps, schema_editor):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(index)} "
            f"ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})")


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_membership_phone'),
        ('customers', '0005_dashboard_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='customer',
                    name='assigned_staff',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='crm.membership', verbose_name='staff in charge'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='care_status',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='customers.carestatus', verbose_name='care status'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='collaborator',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='crm.membership', verbose_name='collaborator'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='created_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='referrer',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='referrals', to='customers.customer', verbose_name='referred by'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='tenant',
                    field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, to='crm.tenant'),
                ),
                migrations.AlterField(
                    model_name='customer',
                    name='updated_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[migrations.RunPython(drop_full_indexes, add_full_indexes)],
        ),
        migrations.AlterField(
            model_name='customeremail',
            name='tenant',
            field=models.ForeignKey(db_constraint=False, db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, to='crm.tenant'),
        ),
        migrations.AlterField(
            model_name='customerphone',
            name='tenant',
            field=models.ForeignKey(db_constraint=False, db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, to='crm.tenant'),
        ),
        migrations.AlterField(
            model_name='customertag',
            name='tenant',
            field=models.ForeignKey(db_constraint=False, db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, to='crm.tenant'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('referrer__isnull', False)), fields=['referrer'], name='cust_referrer_set_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('assigned_staff__isnull', False)), fields=['assigned_staff'], name='cust_assigned_staff_set_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('collaborator__isnull', False)), fields=['collaborator'], name='cust_collaborator_set_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('care_status__isnull', False)), fields=['care_status'], name='cust_care_status_set_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('created_by__isnull', False)), fields=['created_by'], name='cust_created_by_set_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('updated_by__isnull', False)), fields=['updated_by'], name='cust_updated_by_set_idx'),
        ),
    ]
