#!/usr/bin/env python3
"""Views with subqueries at scale: posts N Segment-like events (userIds
u0..u999, as bench_tables.py makes them with batches of 1,000) as NDJSON
to a table without views and to one with three views over `[NOT] EXISTS`
/ `NOT IN` subqueries against a users table that holds half of those
users, prints
events/s for each, then times the statements that flip events in and out
of the views (a user's plan changing, a user arriving, a user blocked, a
NULL among the blocked ids, which flips every event of a NOT IN), and
checks each view against the same SELECT run ad hoc.

Usage, against a running Rivulet (psql on PATH):
  python3 scripts/bench-semijoin.py 127.0.0.1:4560 127.0.0.1:4566 1000000 1000
"""
import subprocess, sys, time
from bench_tables import bodies, run

hook, pg, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host, port = pg.split(":")


def sql(q):
    """Runs `q` with psql; returns its unaligned output and the seconds."""
    start = time.time()
    out = subprocess.run(["psql", "-h", host, "-p", port, "-U", "root", "-d", "dev",
                          "-At", "-v", "ON_ERROR_STOP=1", "-c", q],
                         check=True, capture_output=True, text=True).stdout
    return out.strip(), time.time() - start


VIEWS = {
    "pro_events": "SELECT data->>'messageId' AS id FROM ev e WHERE EXISTS "
                  "(SELECT 1 FROM users u WHERE u.id = e.data->>'userId' AND u.plan = 'pro')",
    "orphans": "SELECT count(*) AS n FROM ev e WHERE NOT EXISTS "
               "(SELECT 1 FROM users u WHERE u.id = e.data->>'userId')",
    "unblocked_revenue": "SELECT sum((data->'properties'->>'revenue')::int) AS revenue FROM ev "
                         "WHERE data->>'userId' NOT IN (SELECT uid FROM blocked)",
}

sql("CREATE TABLE base (data JSONB) WITH (connector = 'webhook', is_batched = true)")
sql("CREATE TABLE ev (data JSONB) WITH (connector = 'webhook', is_batched = true)")
sql("CREATE TABLE users (id TEXT PRIMARY KEY, plan TEXT)")
sql("CREATE TABLE blocked (id INT PRIMARY KEY, uid TEXT)")
users = ", ".join(f"('u{i}', '{'pro' if i % 4 == 0 else 'free'}')" for i in range(500))
sql(f"INSERT INTO users VALUES {users}")
sql("INSERT INTO blocked VALUES (1, 'u3'), (2, 'u4')")
for name, q in VIEWS.items():
    sql(f"CREATE MATERIALIZED VIEW {name} AS {q}")

bs = bodies(n, batch)
for table in ["base", "ev"]:
    took = run(hook, table, bs)
    what = "no views" if table == "base" else f"{len(VIEWS)} views with subqueries"
    print(f"ingest, {what}: {n:,} events in {took:.1f} s = {n/took:,.0f} events/s")


def timed(label, q):
    _, took = sql(q)
    print(f"{label}: {took * 1000:,.0f} ms  ({q})")


timed("a user's plan changes (its events enter pro_events)", "UPDATE users SET plan = 'pro' WHERE id = 'u1'")
timed("a user arrives (its events leave orphans)", "INSERT INTO users VALUES ('u700', 'free')")
timed("a user is blocked (NOT IN, its events leave)", "INSERT INTO blocked VALUES (3, 'u5')")
timed("a NULL among the blocked ids (NOT IN keeps no event)", "INSERT INTO blocked VALUES (4, NULL)")
timed("the NULL goes (every event is back)", "DELETE FROM blocked WHERE id = 4")

for name, q in VIEWS.items():
    got, read = sql(f"SELECT * FROM {name} ORDER BY 1")
    want, took = sql(f"SELECT * FROM ({q}) t ORDER BY 1")
    rows = len(got.splitlines())
    status = "equal" if got == want else "DIFFERENT"
    print(f"{name}: {rows:,} rows; view read {read * 1000:,.0f} ms, "
          f"same SELECT ad hoc {took * 1000:,.0f} ms; {status}")
