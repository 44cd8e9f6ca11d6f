"""DBeaver's and Metabase's catalog queries, as their PostgreSQL plugins
send them when a user opens a connection, browses a schema and syncs it,
run over psycopg2 against one server: `catalog_tools_check.py HOST PORT
USER DBNAME`. Prints, for each query, the fields the tool reads from
each row, by name rather than OID (OIDs differ between servers), so the
output can be compared line by line with PostgreSQL's.
"""
import sys

import psycopg2

host, port, user, dbname = sys.argv[1:5]
conn = psycopg2.connect(host=host, port=port, user=user, dbname=dbname)
conn.autocommit = True
cur = conn.cursor()

for stmt in [
    "CREATE TABLE tool_users (id BIGINT PRIMARY KEY, name VARCHAR, plan TEXT, seen TIMESTAMPTZ)",
    "CREATE TABLE tool_events (data JSONB)",
    "CREATE MATERIALIZED VIEW tool_plans AS SELECT plan, count(*) AS n FROM tool_users GROUP BY plan",
    "CREATE VIEW tool_named AS SELECT id, name FROM tool_users",
]:
    cur.execute(stmt)


def rows(sql, params=None):
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def show(title, items):
    print(f"== {title}")
    for item in items:
        print("  ", item)


ours = ("tool_users", "tool_events", "tool_plans", "tool_named", "tool_users_pkey")
public = rows("SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public'")[0]["oid"]

# DBeaver: opening a connection.
show("current schema and user", [tuple(r.values()) for r in rows("SELECT current_schema(), session_user")])
show("transaction isolation", [tuple(r.values()) for r in rows("SHOW TRANSACTION ISOLATION LEVEL")])
show("databases", [r["datname"] == dbname for r in rows(
    "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname = %s", (dbname,))])
kw = rows("SELECT string_agg(word, ',') AS words FROM pg_catalog.pg_get_keywords() WHERE word <> ALL ('{a,abs,select}'::text[])")
show("keywords listed", [kw[0]["words"] is not None])
# (PostgreSQL lists its encoding conversions here; Rivulet, UTF-8 only,
# has none: only that the query runs is compared.)
rows("SELECT c.contoencoding AS encid, pg_catalog.pg_encoding_to_char(c.contoencoding) AS encname "
     "FROM pg_catalog.pg_conversion c GROUP BY c.contoencoding ORDER BY 2")
show("tablespaces", [(r["spcname"], r["loc"]) for r in rows(
    "SELECT t.oid,t.*,pg_tablespace_location(t.oid) loc FROM pg_catalog.pg_tablespace t ORDER BY t.oid")])
show("roles", [r["rolname"] == user for r in rows(
    "SELECT a.oid,a.*,pd.description FROM pg_catalog.pg_roles a "
    "LEFT JOIN pg_catalog.pg_shdescription pd ON a.oid = pd.objoid ORDER BY a.rolname")
    if r["rolname"] == user])
show("database comment", [r["description"] for r in rows(
    "SELECT description FROM pg_shdescription JOIN pg_database ON objoid = pg_database.oid WHERE datname = %s",
    (dbname,))])

# DBeaver: browsing the public schema.
tables = rows(
    "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS partition_expr, "
    "pg_catalog.pg_get_partkeydef(c.oid) AS partition_key, dep.objid, dep.refobjsubid "
    "FROM pg_catalog.pg_class c "
    "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass "
    "LEFT OUTER JOIN pg_depend dep ON dep.refobjid = c.\"oid\" AND dep.deptype = 'i' AND dep.refobjsubid <> 0 "
    "AND dep.classid = dep.refclassid "
    "WHERE c.relnamespace=%s AND c.relkind NOT IN ('i','I','c')", (public,))
show("tables", sorted((r["relname"], r["relkind"], r["relhasindex"], r["partition_key"], r["description"])
                      for r in tables if r["relname"] in ours))
oid = {r["relname"]: r["oid"] for r in tables}
cols = rows(
    "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) AS def_value,dsc.description "
    "FROM pg_catalog.pg_attribute a INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid) "
    "LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum) "
    "LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) "
    "WHERE NOT a.attisdropped AND c.oid=%s ORDER BY a.attnum", (oid["tool_users"],))
types = {r["oid"]: r["typname"] for r in rows("SELECT oid, typname FROM pg_catalog.pg_type")}
show("columns", [(r["relname"], r["attname"], r["attnum"], types.get(r["atttypid"]), r["attnotnull"],
                  r["def_value"]) for r in cols if r["attnum"] > 0])
cons = rows(
    "SELECT c.oid,c.*,t.relname AS tabrelname,rt.relnamespace AS refnamespace,d.description, "
    "CASE WHEN c.contype='c' THEN \"substring\"(pg_get_constraintdef(c.oid), 7) ELSE NULL END consrc_copy "
    "FROM pg_catalog.pg_constraint c INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid "
    "LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid "
    "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 "
    "AND d.classoid='pg_constraint'::regclass WHERE c.conrelid=%s ORDER BY c.oid", (oid["tool_users"],))
show("constraints", [(r["tabrelname"], r["conname"], r["contype"], r["conkey"], r["consrc_copy"]) for r in cons])
idx = rows(
    "SELECT i.*,i.indkey AS keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname AS tabrelname,"
    "dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS pred_expr,"
    "pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) AS expr,"
    "pg_catalog.pg_relation_size(i.indexrelid) AS index_rel_size,"
    "pg_catalog.pg_stat_get_numscans(i.indexrelid) AS index_num_scans "
    "FROM pg_catalog.pg_index i INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid "
    "INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid "
    "LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid "
    "WHERE i.indrelid=%s ORDER BY c.relname", (oid["tool_users"],))
show("indexes", [(r["relname"], r["tabrelname"], r["keys"], r["indisprimary"], r["indisunique"], r["expr"])
                 for r in idx])
show("triggers", [r["tgname"] for r in rows(
    "SELECT x.oid,x.*,p.pronamespace AS func_schema_id,d.description FROM pg_catalog.pg_trigger x "
    "LEFT OUTER JOIN pg_catalog.pg_proc p ON p.oid=x.tgfoid "
    "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=x.oid AND d.objsubid=0 "
    "WHERE x.tgrelid = %s AND NOT x.tgisinternal", (oid["tool_users"],))])
show("inherits", rows(
    "SELECT i.*,c.relnamespace FROM pg_catalog.pg_inherits i,pg_catalog.pg_class c "
    "WHERE i.inhrelid=%s AND c.oid=i.inhparent ORDER BY i.inhseqno", (oid["tool_users"],)))
show("policies", rows(
    "SELECT * FROM pg_catalog.pg_policies WHERE schemaname='public' AND tablename='tool_users'"))
show("rules", rows(
    "SELECT r.oid,r.*, pg_get_ruledef(r.oid) AS definition FROM pg_rewrite r "
    "WHERE r.ev_class=%s AND r.rulename <> '_RETURN'::name", (oid["tool_named"],)))
show("referencing schemas", rows(
    "SELECT DISTINCT connamespace FROM pg_catalog.pg_constraint WHERE confrelid=%s", (oid["tool_users"],)))
# (PostgreSQL pretty-prints a view's definition; Rivulet prints it as
# written: only that there is one is compared.)
show("view definition", [r["def"] is not None for r in rows(
    "SELECT pg_catalog.pg_get_viewdef(%s, true) AS def", (oid["tool_named"],))])
show("procedures", rows(
    "SELECT p.oid,p.*,d.description FROM pg_catalog.pg_proc p "
    "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=p.oid WHERE p.pronamespace=%s "
    "ORDER BY p.proname", (public,)))

# Metabase: syncing the database.
show("timezone", [tuple(r.items()) for r in rows("show timezone;")])
show("enum types", rows(
    "SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)"))
privileges = rows(
    "with table_privileges as ("
    " select NULL as role, t.schemaname as schema, t.objectname as table,"
    "  pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' || '.' || '\"' || t.objectname || '\"', 'update') as update,"
    "  pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' || '.' || '\"' || t.objectname || '\"', 'select') as select,"
    "  pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' || '.' || '\"' || t.objectname || '\"', 'insert') as insert,"
    "  pg_catalog.has_table_privilege(current_user, '\"' || t.schemaname || '\"' || '.' || '\"' || t.objectname || '\"', 'delete') as delete"
    " from (select schemaname, tablename as objectname from pg_catalog.pg_tables"
    "  union select schemaname, viewname as objectname from pg_catalog.pg_views"
    "  union select schemaname, matviewname as objectname from pg_catalog.pg_matviews) t"
    " where t.schemaname !~ '^pg_' and t.schemaname <> 'information_schema'"
    "  and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage'))"
    " select t.* from table_privileges t where t.select or t.update or t.insert or t.delete")
show("table privileges", sorted(tuple(r.values()) for r in privileges if r["table"] in ours))
show("fields", [tuple(r.values()) for r in rows(
    "SELECT c.column_name, c.data_type, c.udt_name, c.ordinal_position, c.is_nullable "
    "FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = 'tool_users' "
    "ORDER BY c.ordinal_position")])

for stmt in ["DROP VIEW tool_named", "DROP MATERIALIZED VIEW tool_plans", "DROP TABLE tool_events",
             "DROP TABLE tool_users"]:
    cur.execute(stmt)
print("catalog tools ok")
