"""Drives Rivulet with psycopg 3 the way applications do: server-side
parameter binding, text and binary cursors, jsonb, numerics and errors.

Usage: python3 psycopg_check.py HOST PORT   (exits non-zero on failure)
"""
import decimal
import sys

import psycopg
from psycopg.types.json import Jsonb

host, port = sys.argv[1], sys.argv[2]
conn = psycopg.connect(host=host, port=port, user="root", dbname="dev", autocommit=True)
assert conn.info.server_version >= 150000, conn.info.server_version
assert conn.info.parameter_status("DateStyle").startswith("ISO")
assert conn.info.parameter_status("client_encoding") == "UTF8"
assert conn.info.parameter_status("integer_datetimes") == "on"
assert conn.info.parameter_status("standard_conforming_strings") == "on"
assert conn.info.parameter_status("server_version").startswith("15.")

cur = conn.cursor()
cur.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, doc JSONB, price NUMERIC, ok BOOLEAN)")
rows = [
    (1, "apple", Jsonb({"tags": ["red"], "n": 1}), decimal.Decimal("1.50"), True),
    (2, "pear", Jsonb({"tags": [], "n": 2}), decimal.Decimal("0.75"), False),
    (3, "plum", None, None, None),
]
cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s)", rows)
cur.execute("CREATE MATERIALIZED VIEW cheap AS SELECT name, price FROM items WHERE price < 1")

for binary in (False, True):
    cur = conn.cursor(binary=binary)
    cur.execute("SELECT id, name, doc, price, ok FROM items WHERE id <= %s ORDER BY id", (2,))
    got = cur.fetchall()
    assert got == [
        (1, "apple", {"tags": ["red"], "n": 1}, decimal.Decimal("1.50"), True),
        (2, "pear", {"tags": [], "n": 2}, decimal.Decimal("0.75"), False),
    ], (binary, got)
    cur.execute("SELECT name FROM cheap")
    assert cur.fetchall() == [("pear",)], binary
    cur.execute("SELECT doc->'tags'->>0, (doc->>'n')::int + %s FROM items WHERE name = %s", (10, "apple"))
    assert cur.fetchone() == ("red", 11), binary
    cur.execute("SELECT count(*) FROM items WHERE doc IS NULL")
    assert cur.fetchone() == (1,), binary

try:
    cur.execute("SELECT * FROM missing WHERE id = %s", (1,))
    raise AssertionError("expected an error")
except psycopg.errors.UndefinedTable:
    pass
cur.execute("SELECT %s::text", ("still usable",))
assert cur.fetchone() == ("still usable",)

# A prepared INSERT is described as returning no rows (NoData), so the
# driver reports the rows it changed and no result columns.
cur = conn.cursor()
for i, name in ((4, "fig"), (5, "kiwi")):
    cur.execute("INSERT INTO items (id, name) VALUES (%s, %s)", (i, name), prepare=True)
    assert cur.description is None, cur.description
    assert cur.rowcount == 1, cur.rowcount

# LIMIT and OFFSET take parameters, prepared or not.
for prepare in (False, True):
    cur.execute("SELECT id FROM items ORDER BY id LIMIT %s OFFSET %s", (2, 1), prepare=prepare)
    assert cur.fetchall() == [(2,), (3,)], prepare

# Transaction blocks and nested savepoints, as psycopg opens them.
tx = psycopg.connect(host=host, port=port, user="root", dbname="dev")
with tx.transaction():
    with tx.transaction():
        tx.execute("INSERT INTO items (id, name) VALUES (6, 'lime')")
    try:
        with tx.transaction():
            tx.execute("SELECT * FROM missing")
    except psycopg.errors.UndefinedTable:
        pass
    assert tx.execute("SELECT count(*) FROM items").fetchone() == (6,)
assert tx.execute("SELECT name FROM items WHERE id = 6").fetchone() == ("lime",)
tx.close()
print("psycopg ok")
