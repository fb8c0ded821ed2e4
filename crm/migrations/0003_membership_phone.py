from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0002_api_keys_guest_setting'),
    ]

    operations = [
        migrations.AddField(
            model_name='membership',
            name='phone',
            field=models.CharField(blank=True, max_length=20, verbose_name='phone'),
        ),
    ]
