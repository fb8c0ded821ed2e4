"""A group's members and join/leave events: their shop copies the group's, and an event's
group and run are the ones the recompute holds: the database no longer checks them (a
lookup each per row at the commit of a recompute that fills a group with 40,000 customers
after an import), and the shop is not indexed alone (their indexes start with it)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_membership_phone'),
        ('groups', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='groupevent',
            name='group',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='groups.customergroup'),
        ),
        migrations.AlterField(
            model_name='groupevent',
            name='run',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='groups.grouprun'),
        ),
        migrations.AlterField(
            model_name='groupevent',
            name='tenant',
            field=models.ForeignKey(db_constraint=False, db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, to='crm.tenant'),
        ),
        migrations.AlterField(
            model_name='groupmember',
            name='tenant',
            field=models.ForeignKey(db_constraint=False, db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, to='crm.tenant'),
        ),
    ]
