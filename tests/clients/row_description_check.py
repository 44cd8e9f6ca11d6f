"""What a RowDescription tells drivers about each result column, read
with psycopg 3 (`row_description_check.py CONNINFO`): its name, the
relation it is a column of (by name; OIDs differ between servers) and
the column's number there, and its type OID, for queries of tables,
views, materialized views, joins, subqueries, aggregates and
expressions, in text and binary results and prepared. pgJDBC's
ResultSetMetaData.getTableName and DBeaver's editable result sets read
these. The output is compared line by line with PostgreSQL's. (System
catalogs are left out: their columns are numbered, and some typed,
differently.)
"""
import sys

import psycopg

conn = psycopg.connect(sys.argv[1], autocommit=True)
for stmt in [
    "CREATE TABLE rd_t (id INT PRIMARY KEY, name VARCHAR, note TEXT)",
    "CREATE VIEW rd_v AS SELECT id, name FROM rd_t",
    "CREATE MATERIALIZED VIEW rd_m AS SELECT name, count(*) AS n FROM rd_t GROUP BY name",
]:
    conn.execute(stmt)
oids = {}
for rel in ("rd_t", "rd_v", "rd_m"):
    oids[conn.execute("SELECT oid FROM pg_class WHERE relname = %s", (rel,)).fetchone()[0]] = rel

queries = [
    "SELECT * FROM rd_t",
    "SELECT id + 1, name AS nm, t.note FROM rd_t t",
    "SELECT x.id FROM (SELECT id FROM rd_t) x",
    "SELECT * FROM rd_v",
    "SELECT * FROM rd_m",
    "SELECT name, count(*) FROM rd_t GROUP BY name",
    "SELECT a.id, b.name FROM rd_t a JOIN rd_t b ON a.id = b.id",
    "SELECT id FROM rd_t UNION SELECT 1",
    "WITH w AS (SELECT name FROM rd_t) SELECT name FROM w",
    "SELECT DISTINCT name FROM rd_t ORDER BY name",
    "SELECT name, 'x' AS lit, NULL AS nothing FROM rd_t",
]
for q in queries:
    for binary in (False, True):
        for prepare in (False, True):
            cur = conn.cursor(binary=binary)
            cur.execute(q, prepare=prepare)
            r = cur.pgresult
            cols = [(r.fname(i).decode(), oids.get(r.ftable(i), r.ftable(i)), r.ftablecol(i), r.ftype(i))
                    for i in range(r.nfields)]
            print(q, "binary" if binary else "text", "prepared" if prepare else "", cols)

for stmt in ["DROP VIEW rd_v", "DROP MATERIALIZED VIEW rd_m", "DROP TABLE rd_t"]:
    conn.execute(stmt)
print("row descriptions ok")
