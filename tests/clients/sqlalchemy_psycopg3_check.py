"""SQLAlchemy 2 over psycopg 3 against Rivulet: connecting (the dialect
asks pg_type for hstore through to_regtype), parameters of declared types
answered in those types (a boolean comes back a boolean), LIMIT and OFFSET
as parameters, listing tables and views, and server-side cursors
(stream_results, psycopg's named cursors).

Usage: python3 sqlalchemy_psycopg3_check.py HOST PORT   (exits non-zero on failure)
"""
import decimal
import sys

import sqlalchemy as sa

host, port = sys.argv[1], sys.argv[2]
eng = sa.create_engine(f"postgresql+psycopg://root@{host}:{port}/dev")

with eng.begin() as c:
    c.execute(sa.text("CREATE TABLE p3_users (id INT PRIMARY KEY, name VARCHAR, score NUMERIC, active BOOLEAN)"))
    c.execute(
        sa.text("INSERT INTO p3_users VALUES (:i, :n, :s, :a)"),
        [
            {"i": 1, "n": "ann", "s": decimal.Decimal("1.50"), "a": True},
            {"i": 2, "n": "bob", "s": decimal.Decimal("2"), "a": False},
        ],
    )
    c.execute(sa.text("CREATE MATERIALIZED VIEW p3_active AS SELECT name FROM p3_users WHERE active"))

with eng.connect() as c:
    assert c.execute(sa.text("SELECT :b AS b"), {"b": True}).scalar() is True
    assert c.execute(sa.text("SELECT :i AS i"), {"i": 7}).scalar() == 7
    assert c.execute(sa.text("SELECT :d AS d"), {"d": decimal.Decimal("2.50")}).scalar() == decimal.Decimal("2.50")
    got = c.execute(sa.text("SELECT name FROM p3_users ORDER BY id LIMIT :n OFFSET :o"), {"n": 1, "o": 1}).fetchall()
    assert [r.name for r in got] == ["bob"], got
    got = c.execute(sa.text("SELECT active FROM p3_users WHERE id = :i"), {"i": 1}).scalar()
    assert got is True, got
    insp = sa.inspect(c)
    assert "p3_users" in insp.get_table_names(), insp.get_table_names()
    assert "p3_active" in insp.get_materialized_view_names(), insp.get_materialized_view_names()
    # Reflection with bound parameters (`current_setting($1)`,
    # `CAST($1 AS REGCLASS)`), the primary key included.
    users = sa.Table("p3_users", sa.MetaData(), autoload_with=c)
    assert [col.name for col in users.primary_key] == ["id"], users.primary_key
    assert insp.get_pk_constraint("p3_users")["name"] == "p3_users_pkey"

# Server-side cursors: SQLAlchemy's stream_results/yield_per over psycopg 3
# declare a cursor, describe it as a portal, and FETCH from it.
with eng.connect() as c:
    r = c.execution_options(stream_results=True, yield_per=1).execute(
        sa.text("SELECT id, name FROM p3_users ORDER BY id"))
    assert [tuple(row) for row in r] == [(1, "ann"), (2, "bob")]
raw = eng.raw_connection()
try:
    with raw.driver_connection.cursor(name="p3_named") as cur:
        cur.execute("SELECT id, score FROM p3_users ORDER BY id")
        assert cur.fetchone() == (1, decimal.Decimal("1.50"))
        assert cur.fetchall() == [(2, decimal.Decimal("2"))]
finally:
    raw.close()

print("sqlalchemy over psycopg 3: ok")
