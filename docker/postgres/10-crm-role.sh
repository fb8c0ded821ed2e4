#!/bin/sh
# Runs once, when the PostgreSQL data volume is empty (the image's
# /docker-entrypoint-initdb.d). The app connects as "crm": the owner of the crm database and
# nothing more (not a superuser, cannot create roles or databases), so a leaked password or
# an injected query cannot read other databases, change roles or run programs on the server.
# pg_trgm and btree_gin, which the migrations create, are trusted extensions: the database
# owner may create them.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=crm_password="${CRM_DB_PASSWORD:?CRM_DB_PASSWORD is not set}" <<'SQL'
CREATE ROLE crm LOGIN PASSWORD :'crm_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE crm OWNER crm;
REVOKE ALL ON DATABASE crm FROM PUBLIC;
SQL
