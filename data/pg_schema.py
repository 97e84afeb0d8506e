"""The PostGIS schema: numbered migrations, group roles, row-level security policies.

Everything lives in the ``gridmap`` schema, owned by the role of the owner URL
(``cli.py db init|migrate --owner-url ...``). The app connects as a login role that owns
nothing and is a ``NOINHERIT`` member of the group roles below: on its own it can read nothing;
per transaction it takes one group role (``SET LOCAL ROLE``) and the user's scope (the setting
``gridmap.scope``, JSON ``{"level": ..., "values": [...]}``) that the policies read.

Migrations are numbered and applied in order inside one transaction each; the number reached is
kept in ``gridmap.schema_version``. Columns a newer layer schema adds are added by
:func:`sync_columns`, run after the migrations.
"""

from __future__ import annotations

from data.store import storage_srid
from layers import LAYERS

SCHEMA = "gridmap"

#: Group role of each app role (no login; the app's login role is a member of each).
GROUP_ROLES = {
    "admin": "gridmap_admin",
    "planner": "gridmap_planner",
    "staff": "gridmap_staff",
    "worker": "gridmap_worker",
    "viewer": "gridmap_viewer",
}
WRITERS = ("gridmap_admin", "gridmap_planner")
#: Group role of sign-in work (users, sessions, attempts; audit rows): no data layers.
ACCOUNTS_ROLE = "gridmap_accounts"
#: Grid columns grid workers may change in their own grids (auth: ``edit_grid_people``)...
GRID_PEOPLE = ("households", "residents", "worker_name", "worker_phone")
#: ... and street/community staff in theirs (``edit_grid_facts``).
GRID_FACTS = ("grid_name", *GRID_PEOPLE)
#: Layers whose rows are limited to the user's scope (the policy is a grid-code lookup).
SCOPED = ("grids", "population")

SQL_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean"}


def layer_table_sql(name: str) -> str:
    """CREATE TABLE for one layer of :data:`layers.LAYERS` (columns from its schema)."""
    cols = [f"{f.name} {SQL_TYPES[f.dtype]}" for f in LAYERS[name].fields]
    if name == "population":
        cols.append("grid_code text")  # tagged from the grids, read by the policy
    body = ",\n  ".join(
        ["fid bigserial PRIMARY KEY", *cols, f"geom geometry(Geometry, {storage_srid()})"]
    )
    return (
        f"CREATE TABLE {SCHEMA}.{name} (\n  {body}\n);\n"
        f"CREATE INDEX {name}_geom_idx ON {SCHEMA}.{name} USING gist (geom);\n"
        f"CREATE TRIGGER {name}_bump AFTER INSERT OR UPDATE OR DELETE ON {SCHEMA}.{name}\n"
        f"  FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.bump_data_version();\n"
    )


def _roles_sql() -> str:
    parts = []
    for role in (*GROUP_ROLES.values(), ACCOUNTS_ROLE):
        parts.append(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$;"
        )
    return "\n".join(parts)


def _migration_1() -> str:
    all_roles = ", ".join(GROUP_ROLES.values())
    writers = ", ".join(WRITERS)
    editors = "gridmap_staff, gridmap_worker"
    scope_test = "(SELECT gridmap.scope_is_city()) OR grid_code IN (SELECT unnest(gridmap.scope_grid_codes()))"
    layer_tables = "\n".join(layer_table_sql(name) for name in LAYERS)
    grants = []
    for name in LAYERS:
        grants.append(f"GRANT SELECT ON {SCHEMA}.{name} TO {all_roles};")
        grants.append(f"GRANT INSERT, UPDATE, DELETE ON {SCHEMA}.{name} TO {writers};")
    policies = []
    for name in SCOPED:
        policies += [
            f"ALTER TABLE {SCHEMA}.{name} ENABLE ROW LEVEL SECURITY;",
            f"CREATE POLICY scope_read ON {SCHEMA}.{name} FOR SELECT USING ({scope_test});",
            f"CREATE POLICY writers ON {SCHEMA}.{name} FOR ALL TO {writers} "
            "USING (true) WITH CHECK (true);",
        ]
    policies.append(
        f"CREATE POLICY scope_edit ON {SCHEMA}.grids FOR UPDATE TO {editors} "
        f"USING ({scope_test}) WITH CHECK ({scope_test});"
    )
    facts, people = ", ".join(GRID_FACTS), ", ".join(GRID_PEOPLE)
    return f"""
SET LOCAL check_function_bodies = off;
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA {SCHEMA};
{_roles_sql()}
CREATE TABLE {SCHEMA}.schema_version (version integer NOT NULL);
INSERT INTO {SCHEMA}.schema_version VALUES (0);

-- data version: bumped by a trigger on every change, read by app replicas as the cache key
CREATE TABLE {SCHEMA}.data_version (
  id integer PRIMARY KEY CHECK (id = 1),
  version bigint NOT NULL
);
INSERT INTO {SCHEMA}.data_version VALUES (1, 0);
CREATE FUNCTION {SCHEMA}.bump_data_version() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
BEGIN
  UPDATE {SCHEMA}.data_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END $$;

-- the user's scope, set per transaction by the app: {{"level": ..., "values": [...]}}
CREATE FUNCTION {SCHEMA}.scope() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('gridmap.scope', true), ''), '{{"level": "none"}}')::jsonb
$$;
CREATE FUNCTION {SCHEMA}.scope_is_city() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT {SCHEMA}.scope() ->> 'level' = 'city'
$$;
-- grid codes inside the scope; runs as the owner so the lookup itself sees every grid
CREATE FUNCTION {SCHEMA}.scope_grid_codes() RETURNS text[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
  WITH s AS (
    SELECT {SCHEMA}.scope() ->> 'level' AS level,
           ARRAY(SELECT jsonb_array_elements_text(
             coalesce({SCHEMA}.scope() -> 'values', '[]'::jsonb))) AS vals
  )
  SELECT CASE s.level
    WHEN 'grids' THEN s.vals
    WHEN 'district' THEN ARRAY(SELECT g.grid_code FROM {SCHEMA}.grids g
                               WHERE g.district = ANY (s.vals))
    WHEN 'street' THEN ARRAY(SELECT g.grid_code FROM {SCHEMA}.grids g
                             WHERE g.street = ANY (s.vals))
    WHEN 'community' THEN ARRAY(SELECT g.grid_code FROM {SCHEMA}.grids g
                                WHERE g.community = ANY (s.vals))
    ELSE ARRAY[]::text[] END
  FROM s
$$;

-- key/value metadata and the other (non-layer) tables, kept whole as Parquet
CREATE TABLE {SCHEMA}.meta (key text PRIMARY KEY, value text);
CREATE TABLE {SCHEMA}.tables (name text PRIMARY KEY, data bytea NOT NULL);
-- the columns each layer was written with (a layer read back has the same columns)
CREATE TABLE {SCHEMA}.layer_columns (layer text PRIMARY KEY, columns text[] NOT NULL);
CREATE TRIGGER meta_bump AFTER INSERT OR UPDATE OR DELETE ON {SCHEMA}.meta
  FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.bump_data_version();
CREATE TRIGGER tables_bump AFTER INSERT OR UPDATE OR DELETE ON {SCHEMA}.tables
  FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.bump_data_version();

{layer_tables}
CREATE INDEX grids_code_idx ON {SCHEMA}.grids (grid_code);
CREATE INDEX population_grid_idx ON {SCHEMA}.population (grid_code);

-- population rows carry the code of the grid they lie in (the policy is then a lookup)
CREATE FUNCTION {SCHEMA}.tag_population() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, public, pg_temp AS $$
BEGIN
  IF TG_TABLE_NAME = 'grids' THEN
    UPDATE {SCHEMA}.population SET grid_code = NULL WHERE grid_code IS NOT NULL;
  END IF;
  UPDATE {SCHEMA}.population p SET grid_code = t.grid_code
  FROM (
    SELECT DISTINCT ON (p2.fid) p2.fid, g.grid_code
    FROM {SCHEMA}.population p2 JOIN {SCHEMA}.grids g ON ST_Covers(g.geom, p2.geom)
    WHERE p2.grid_code IS NULL
    ORDER BY p2.fid, g.grid_code
  ) t
  WHERE p.fid = t.fid;
  RETURN NULL;
END $$;
CREATE TRIGGER population_tag AFTER INSERT ON {SCHEMA}.population
  FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.tag_population();
CREATE TRIGGER grids_tag AFTER INSERT OR DELETE ON {SCHEMA}.grids
  FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.tag_population();
CREATE TRIGGER grids_tag_update AFTER UPDATE OF geom, grid_code ON {SCHEMA}.grids
  FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.tag_population();

-- sign-in (auth.storage): read and written as gridmap_accounts, never by the user roles
CREATE TABLE {SCHEMA}.users (
  name text PRIMARY KEY,
  display_name text NOT NULL,
  role text NOT NULL,
  scope text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  demo boolean NOT NULL DEFAULT false,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE {SCHEMA}.auth_sessions (
  token_hash text PRIMARY KEY,
  user_name text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  client text NOT NULL DEFAULT ''
);
CREATE TABLE {SCHEMA}.auth_attempts (
  at timestamptz NOT NULL,
  user_name text NOT NULL,
  client text NOT NULL,
  ok boolean NOT NULL
);
CREATE INDEX auth_attempts_at ON {SCHEMA}.auth_attempts (at);
-- audit trail: the app may add and read rows, never change or remove them
CREATE TABLE {SCHEMA}.audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  user_name text NOT NULL,
  role text NOT NULL,
  action text NOT NULL,
  layer text NOT NULL DEFAULT '',
  rows_added bigint NOT NULL DEFAULT 0,
  rows_changed bigint NOT NULL DEFAULT 0,
  rows_removed bigint NOT NULL DEFAULT 0,
  detail jsonb NOT NULL DEFAULT '{{}}'
);

GRANT USAGE ON SCHEMA {SCHEMA} TO {all_roles}, {ACCOUNTS_ROLE};
GRANT USAGE ON SCHEMA public TO {all_roles}, {ACCOUNTS_ROLE};
GRANT SELECT ON {SCHEMA}.schema_version, {SCHEMA}.data_version, {SCHEMA}.meta,
  {SCHEMA}.tables TO {all_roles}, {ACCOUNTS_ROLE};
GRANT SELECT, INSERT, UPDATE ON {SCHEMA}.users TO {ACCOUNTS_ROLE};
GRANT SELECT, INSERT, DELETE ON {SCHEMA}.auth_sessions, {SCHEMA}.auth_attempts
  TO {ACCOUNTS_ROLE};
GRANT SELECT, INSERT ON {SCHEMA}.audit_log TO {ACCOUNTS_ROLE}, {writers};
GRANT INSERT ON {SCHEMA}.audit_log TO {all_roles};
GRANT USAGE ON SEQUENCE {SCHEMA}.audit_log_id_seq TO {ACCOUNTS_ROLE};
GRANT SELECT ON {SCHEMA}.layer_columns TO {all_roles};
GRANT INSERT, UPDATE, DELETE ON {SCHEMA}.meta, {SCHEMA}.tables, {SCHEMA}.layer_columns
  TO {writers};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {all_roles};
{chr(10).join(grants)}
GRANT UPDATE ({facts}) ON {SCHEMA}.grids TO gridmap_staff;
GRANT UPDATE ({people}) ON {SCHEMA}.grids TO gridmap_worker;
{chr(10).join(policies)}
REVOKE ALL ON FUNCTION {SCHEMA}.tag_population() FROM PUBLIC;
REVOKE ALL ON FUNCTION {SCHEMA}.bump_data_version() FROM PUBLIC;
"""


def _migration_2() -> str:
    """A version counter per table, bumped by the same trigger (caches of one layer)."""
    all_roles = ", ".join((*GROUP_ROLES.values(), ACCOUNTS_ROLE))
    return f"""
CREATE TABLE {SCHEMA}.table_version (name text PRIMARY KEY, version bigint NOT NULL);
GRANT SELECT ON {SCHEMA}.table_version TO {all_roles};
CREATE OR REPLACE FUNCTION {SCHEMA}.bump_data_version() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
BEGIN
  UPDATE {SCHEMA}.data_version SET version = version + 1 WHERE id = 1;
  INSERT INTO {SCHEMA}.table_version AS t (name, version)
    SELECT TG_TABLE_NAME, version FROM {SCHEMA}.data_version WHERE id = 1
  ON CONFLICT (name) DO UPDATE SET version = excluded.version;
  RETURN NULL;
END $$;
"""


def _migration_3() -> str:
    """Field reports, steps, photos and visits (:mod:`field.store`) under the grids' scope rules.

    Reports and visits carry a grid code; steps and photos are seen through their report.
    Workers and staff read and add rows only inside their scope (a report outside every grid
    only with a city scope); viewers read; planners and admins do everything.
    """
    from field.store import MAX_BLOB_BYTES

    all_roles = ", ".join(GROUP_ROLES.values())
    writers = ", ".join(WRITERS)
    editors = "gridmap_staff, gridmap_worker"
    in_scope = (
        f"(SELECT {SCHEMA}.scope_is_city()) OR grid_code IN "
        f"(SELECT unnest({SCHEMA}.scope_grid_codes()))"
    )
    via_report = f"report_id IN (SELECT r.report_id FROM {SCHEMA}.field_reports r)"
    policies = []
    for table, test in (
        ("field_reports", in_scope),
        ("field_visits", in_scope),
        ("field_steps", via_report),
        ("field_photos", via_report),
    ):
        policies += [
            f"ALTER TABLE {SCHEMA}.{table} ENABLE ROW LEVEL SECURITY;",
            f"CREATE POLICY scope_read ON {SCHEMA}.{table} FOR SELECT USING ({test});",
            f"CREATE POLICY scope_add ON {SCHEMA}.{table} FOR INSERT TO {editors} "
            f"WITH CHECK ({test});",
            f"CREATE POLICY writers ON {SCHEMA}.{table} FOR ALL TO {writers} "
            "USING (true) WITH CHECK (true);",
            f"CREATE TRIGGER {table}_bump AFTER INSERT OR UPDATE OR DELETE ON {SCHEMA}.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.bump_data_version();",
            f"GRANT SELECT ON {SCHEMA}.{table} TO {all_roles};",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {SCHEMA}.{table} TO {writers};",
            f"GRANT INSERT ON {SCHEMA}.{table} TO {editors};",
        ]
    policies.append(
        f"CREATE POLICY scope_step ON {SCHEMA}.field_reports FOR UPDATE TO {editors} "
        f"USING ({in_scope}) WITH CHECK ({in_scope});"
    )
    return f"""
CREATE TABLE {SCHEMA}.field_reports (
  report_id text PRIMARY KEY,
  submission_id text NOT NULL UNIQUE,
  category text NOT NULL,
  urgency text NOT NULL,
  description text NOT NULL DEFAULT '',
  lon double precision NOT NULL,
  lat double precision NOT NULL,
  grid_code text,
  community text,
  street text,
  district text,
  reporter text NOT NULL,
  reporter_role text NOT NULL DEFAULT '',
  state text NOT NULL DEFAULT 'new',
  assignee text,
  duplicate_of text,
  synthetic boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  state_at timestamptz NOT NULL,
  accepted_at timestamptz,
  dispatched_at timestamptz,
  handled_at timestamptz,
  checked_at timestamptz,
  closed_at timestamptz
);
CREATE INDEX field_reports_grid ON {SCHEMA}.field_reports (grid_code);
CREATE INDEX field_reports_created ON {SCHEMA}.field_reports (created_at);
CREATE TABLE {SCHEMA}.field_steps (
  step_id bigserial PRIMARY KEY,
  report_id text NOT NULL REFERENCES {SCHEMA}.field_reports (report_id),
  from_state text,
  to_state text NOT NULL,
  actor text NOT NULL,
  role text NOT NULL DEFAULT '',
  at timestamptz NOT NULL,
  note text NOT NULL DEFAULT ''
);
CREATE INDEX field_steps_report ON {SCHEMA}.field_steps (report_id);
CREATE TABLE {SCHEMA}.field_photos (
  photo_id bigserial PRIMARY KEY,
  report_id text NOT NULL REFERENCES {SCHEMA}.field_reports (report_id),
  step_id bigint REFERENCES {SCHEMA}.field_steps (step_id),
  data bytea NOT NULL CHECK (octet_length(data) <= {MAX_BLOB_BYTES}),
  width integer NOT NULL,
  height integer NOT NULL,
  sha256 text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX field_photos_report ON {SCHEMA}.field_photos (report_id);
CREATE TABLE {SCHEMA}.field_visits (
  visit_id bigserial PRIMARY KEY,
  grid_code text NOT NULL,
  household text,
  visited_on date NOT NULL,
  households_visited integer NOT NULL DEFAULT 1 CHECK (households_visited > 0),
  worker text,
  created_at timestamptz NOT NULL,
  synthetic boolean NOT NULL DEFAULT false
);
CREATE INDEX field_visits_grid ON {SCHEMA}.field_visits (grid_code);
{chr(10).join(policies)}
GRANT UPDATE (state, state_at, accepted_at, dispatched_at, handled_at, checked_at, closed_at,
  assignee, duplicate_of) ON {SCHEMA}.field_reports TO {editors};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {all_roles};
"""


#: Migration number -> SQL builder. Append new ones; never change an applied one.
MIGRATIONS = {1: _migration_1, 2: _migration_2, 3: _migration_3}
LATEST = max(MIGRATIONS)


def current_version(cur) -> int:
    """Schema version reached in the database (0 when the schema does not exist)."""
    cur.execute("SELECT to_regclass('gridmap.schema_version') IS NOT NULL")
    if not cur.fetchone()[0]:
        return 0
    cur.execute(f"SELECT max(version) FROM {SCHEMA}.schema_version")
    return int(cur.fetchone()[0] or 0)


def migrate(conn) -> list[int]:
    """Apply the pending migrations on `conn` (an owner's connection); return their numbers."""
    applied = []
    with conn.transaction(), conn.cursor() as cur:
        # one migrator at a time (several replicas may start together)
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('gridmap.migrate'))")
        start = current_version(cur)
        for number in sorted(n for n in MIGRATIONS if n > start):
            cur.execute(MIGRATIONS[number]())
            cur.execute(f"UPDATE {SCHEMA}.schema_version SET version = %s", (number,))
            applied.append(number)
        sync_columns(cur)
    return applied


def sync_columns(cur) -> list[str]:
    """Add the layers and columns a newer layer schema has and the database lacks.

    Returns what was added (``layer`` or ``layer.column``).
    """
    added = []
    for name in LAYERS:
        cur.execute("SELECT to_regclass(%s) IS NULL", (f"{SCHEMA}.{name}",))
        if cur.fetchone()[0]:
            all_roles = ", ".join(GROUP_ROLES.values())
            cur.execute(layer_table_sql(name))
            cur.execute(f"GRANT SELECT ON {SCHEMA}.{name} TO {all_roles}")
            cur.execute(f"GRANT INSERT, UPDATE, DELETE ON {SCHEMA}.{name} TO {', '.join(WRITERS)}")
            cur.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {all_roles}")
            added.append(name)
    for name, schema in LAYERS.items():
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (SCHEMA, name),
        )
        have = {row[0] for row in cur.fetchall()}
        for f in schema.fields:
            if f.name not in have:
                cur.execute(f"ALTER TABLE {SCHEMA}.{name} ADD COLUMN {f.name} {SQL_TYPES[f.dtype]}")
                added.append(f"{name}.{f.name}")
    return added


def grant_app_role(conn, role: str, *, password: str | None = None) -> None:
    """Make login role `role` a NOINHERIT member of every group role (created if missing).

    The role owns nothing: on its own it reads nothing, and it can act only by
    ``SET LOCAL ROLE`` to one of the group roles.
    """
    from psycopg import sql

    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,))
        row = cur.fetchone()
        if row is None:
            stmt = sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(sql.Identifier(role))
            if password:
                stmt = stmt + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
            cur.execute(stmt)
        elif row[0] or row[1]:
            raise ValueError(f"role {role!r} is a superuser or bypasses row-level security")
        else:
            cur.execute(sql.SQL("ALTER ROLE {} NOINHERIT").format(sql.Identifier(role)))
        cur.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = %s",
            (role,),
        )
        if cur.fetchone()[0]:
            raise ValueError(f"role {role!r} owns tables; the app role must own nothing")
        for group in (*GROUP_ROLES.values(), ACCOUNTS_ROLE):
            cur.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role))
            )
        cur.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(conn.info.dbname), sql.Identifier(role)
            )
        )
