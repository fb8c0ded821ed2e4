"""The point ledger is append-only, in the database too (PostgreSQL): a trigger refuses
any UPDATE or DELETE of ``loyalty_pointentry``. The one exception is a merge of two
customers (``loyalty.services.ledger.points_move_on_merge`` sets ``loyalty.merging`` for its
statement), which may move entries to the survivor and change nothing else.

TRUNCATE (the test database's flush) is not a row change and stays possible for the
database owner. SQLite (development) has no trigger: there the code has no update path.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION loyalty_pointentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('loyalty.merging', true) = 'on'
       AND (to_jsonb(NEW) - 'customer_id') = (to_jsonb(OLD) - 'customer_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the point ledger is append-only: % refused on entry %', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER loyalty_pointentry_append_only
BEFORE UPDATE OR DELETE ON loyalty_pointentry
FOR EACH ROW EXECUTE FUNCTION loyalty_pointentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS loyalty_pointentry_append_only ON loyalty_pointentry;
DROP FUNCTION IF EXISTS loyalty_pointentry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL goes as written (its RAISE has % placeholders of its own).
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_ledger")]

    operations = [migrations.RunPython(forwards, backwards)]
