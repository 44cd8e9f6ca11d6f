"""pandas over SQLAlchemy 2 and psycopg2 against Rivulet, as analysts use
it: `read_sql` of a query (with parameters) and of a materialized view,
`read_sql_table` (which reflects the table first), `read_sql` in chunks
(a server-side cursor), and `to_sql` appending a data frame to a table.

Usage: python3 pandas_check.py HOST PORT
(exits non-zero on failure)
"""
import decimal
import sys

import pandas as pd
import sqlalchemy as sa

host, port = sys.argv[1], sys.argv[2]
eng = sa.create_engine(f"postgresql+psycopg2://root@{host}:{port}/dev")

with eng.begin() as c:
    c.execute(sa.text("CREATE TABLE pd_events (id INT PRIMARY KEY, kind VARCHAR, amount NUMERIC, at TIMESTAMPTZ, doc JSONB)"))
    c.execute(sa.text(
        "INSERT INTO pd_events VALUES "
        "(1, 'a', 1.50, '2024-01-01T10:00:00Z', '{\"k\": 1}'), "
        "(2, 'b', 2, '2024-01-01T11:00:00Z', NULL), "
        "(3, 'a', NULL, NULL, '[1, 2]')"))
    c.execute(sa.text("CREATE MATERIALIZED VIEW pd_kinds AS SELECT kind, count(*) AS n, sum(amount) AS total FROM pd_events GROUP BY kind"))

# A query with a parameter.
df = pd.read_sql(sa.text("SELECT id, kind, amount, at FROM pd_events WHERE id >= :lo ORDER BY id"), eng, params={"lo": 2})
assert list(df.columns) == ["id", "kind", "amount", "at"], df.columns
assert df["id"].tolist() == [2, 3], df
assert df["kind"].tolist() == ["b", "a"], df
assert df["amount"].tolist()[0] == decimal.Decimal("2"), df
assert str(df["at"].dtype).startswith("datetime64"), df.dtypes
assert df["at"].iloc[0] == pd.Timestamp("2024-01-01T11:00:00Z"), df

# A view, parsed dates and an index column.
df = pd.read_sql("SELECT * FROM pd_kinds ORDER BY kind", eng, index_col="kind")
assert df.loc["a", "n"] == 2 and df.loc["b", "n"] == 1, df
assert df.loc["a", "total"] == decimal.Decimal("1.50"), df

# read_sql_table reflects the table (its columns and types) first.
df = pd.read_sql_table("pd_events", eng)
assert sorted(df["id"].tolist()) == [1, 2, 3], df
assert list(df.columns) == ["id", "kind", "amount", "at", "doc"], df.columns
docs = {r.id: r.doc for r in df.itertuples()}
assert docs[1] == {"k": 1} and docs[3] == [1, 2] and docs[2] is None, docs

# In chunks, through a server-side cursor.
with eng.connect().execution_options(stream_results=True) as c:
    chunks = list(pd.read_sql(sa.text("SELECT id FROM pd_events ORDER BY id"), c, chunksize=2))
assert [len(ch) for ch in chunks] == [2, 1], chunks

# to_sql appends to an existing table (one multi-row INSERT per chunk).
new = pd.DataFrame({"id": [10, 11], "kind": ["c", None], "amount": [3.25, 4.0]})
written = new.to_sql("pd_events", eng, if_exists="append", index=False, method="multi")
assert written in (2, None), written
df = pd.read_sql("SELECT count(*) AS n, sum(amount) AS s FROM pd_events WHERE id >= 10", eng)
assert df["n"].iloc[0] == 2 and df["s"].iloc[0] == decimal.Decimal("7.25"), df
df = pd.read_sql("SELECT * FROM pd_kinds ORDER BY kind NULLS LAST", eng)
assert df["kind"].tolist() == ["a", "b", "c", None], df

print("pandas: ok")
