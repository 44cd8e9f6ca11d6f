"""SQLAlchemy 2 over psycopg2 (or psycopg 3) against Rivulet, as applications and tools
start: connect, bound parameters (also LIMIT), booleans and numerics, core
selects, savepoints through begin_nested(), and the reflection calls that
list schemas, tables and views and reflect a table's columns.

Usage: python3 sqlalchemy_check.py HOST PORT [psycopg2|psycopg]
(exits non-zero on failure)
"""
import decimal
import sys

import sqlalchemy as sa

host, port = sys.argv[1], sys.argv[2]
driver = sys.argv[3] if len(sys.argv) > 3 else "psycopg2"
eng = sa.create_engine(f"postgresql+{driver}://root@{host}:{port}/dev")

with eng.begin() as c:
    c.execute(sa.text("CREATE TABLE sa_users (id INT PRIMARY KEY, name VARCHAR, score NUMERIC, active BOOLEAN)"))
    r = c.execute(
        sa.text("INSERT INTO sa_users VALUES (:i, :n, :s, :a)"),
        [
            {"i": 1, "n": "ann", "s": decimal.Decimal("1.50"), "a": True},
            {"i": 2, "n": "bob", "s": decimal.Decimal("2"), "a": False},
            {"i": 3, "n": "cy", "s": None, "a": None},
        ],
    )
    assert r.rowcount == 3, r.rowcount
    c.execute(sa.text("CREATE MATERIALIZED VIEW sa_active AS SELECT name FROM sa_users WHERE active"))

with eng.connect() as c:
    got = c.execute(sa.text("SELECT name FROM sa_users ORDER BY id LIMIT :n OFFSET :o"), {"n": 1, "o": 1}).fetchall()
    assert got == [("bob",)], got
    assert c.execute(sa.text("SELECT :b AS b"), {"b": True}).scalar() is True
    assert c.execute(sa.text("SELECT score FROM sa_users WHERE id = 1")).scalar() == decimal.Decimal("1.50")
    users = sa.table("sa_users", sa.column("id"), sa.column("name"))
    got = c.execute(sa.select(users.c.name).where(users.c.id > 1).order_by(users.c.id)).fetchall()
    assert got == [("bob",), ("cy",)], got
    assert c.execute(sa.text("SELECT name FROM sa_active")).fetchall() == [("ann",)]

with eng.connect() as c:
    # begin_nested() is a SAVEPOINT; a failure inside rolls back to it.
    with c.begin():
        try:
            with c.begin_nested():
                c.execute(sa.text("SELECT * FROM sa_missing"))
        except sa.exc.ProgrammingError:
            pass
        assert c.execute(sa.text("SELECT count(*) FROM sa_users")).scalar() == 3

# stream_results: psycopg2 reads through a server-side cursor
# (DECLARE ... CURSOR, FETCH FORWARD n), in batches.
with eng.connect() as c:
    result = c.execution_options(stream_results=True, max_row_buffer=2).execute(
        sa.text("SELECT id FROM sa_users ORDER BY id")
    )
    assert [r[0] for r in result] == [1, 2, 3]

insp = sa.inspect(eng)
assert "public" in insp.get_schema_names()
assert insp.get_table_names() == ["sa_users"], insp.get_table_names()
assert insp.get_materialized_view_names() == ["sa_active"], insp.get_materialized_view_names()
assert insp.get_view_names() == []
assert insp.has_table("sa_users") and not insp.has_table("sa_missing")
cols = {c["name"]: c for c in insp.get_columns("sa_users")}
assert list(cols) == ["id", "name", "score", "active"], cols
assert isinstance(cols["id"]["type"], sa.Integer) and not cols["id"]["nullable"], cols["id"]
assert isinstance(cols["name"]["type"], sa.VARCHAR), cols["name"]
assert all(c["default"] is None for c in cols.values()), cols
# Primary keys, reflected from pg_constraint and pg_index, in the key's
# declared order.
with eng.begin() as c:
    c.execute(sa.text("CREATE TABLE sa_pairs (a INT, b VARCHAR, v JSONB, PRIMARY KEY (b, a))"))
pk = insp.get_pk_constraint("sa_users")
assert pk["constrained_columns"] == ["id"] and pk["name"] == "sa_users_pkey", pk
assert insp.get_pk_constraint("sa_pairs")["constrained_columns"] == ["b", "a"]
assert insp.get_indexes("sa_users") == [] and insp.get_unique_constraints("sa_users") == []
pairs = sa.Table("sa_pairs", sa.MetaData(), autoload_with=eng)
assert [c.name for c in pairs.primary_key] == ["b", "a"], pairs.primary_key
with eng.begin() as c:
    c.execute(sa.text("DROP TABLE sa_pairs"))
print("sqlalchemy ok")
