"""Search indexes that only PostgreSQL has; on SQLite the plain indexes serve.

* pg_trgm + a trigram GIN index on the folded name: ``search_name LIKE '%duc%'``.
* ``varchar_pattern_ops`` btrees: prefix search on phones (and suffix search through the
  reversed digits) and emails; the database's C.UTF-8 / ICU collation cannot use a plain
  btree for LIKE 'abc%'.
Every index leads with tenant, as DESIGN.md asks (btree_gin lets the GIN index hold it).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer "
    "USING gin (tenant_id, search_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS phone_prefix_idx ON customers_customerphone "
    "(tenant_id, normalized varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS phone_suffix_idx ON customers_customerphone "
    "(tenant_id, reversed_digits varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS email_prefix_idx ON customers_customeremail "
    "(tenant_id, email varchar_pattern_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS customer_name_trgm",
    "DROP INDEX IF EXISTS phone_prefix_idx",
    "DROP INDEX IF EXISTS phone_suffix_idx",
    "DROP INDEX IF EXISTS email_prefix_idx",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
