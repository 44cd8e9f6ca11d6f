"""dbt through dbt-risingwave against Rivulet: `dbt debug`, `dbt run`
(materialized views and a view), `dbt run` again (the adapter reads the catalog to
see what exists), `dbt test`, `dbt docs generate` and `dbt run
--full-refresh`, on the project in tests/clients/dbt; then the models'
rows are checked.

Usage: python3 dbt_check.py HOST PORT   (exits non-zero on failure)
"""
import json
import os
import subprocess
import sys
import tempfile

import psycopg

host, port = sys.argv[1], sys.argv[2]
project = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dbt")
work = tempfile.mkdtemp(prefix="rivulet-dbt-")
with open(os.path.join(work, "profiles.yml"), "w") as f:
    f.write(f"""rivulet:
  target: dev
  outputs:
    dev:
      type: risingwave
      host: {host}
      port: {port}
      user: root
      pass: ""
      dbname: dev
      schema: public
      threads: 1
""")
env = dict(os.environ, DBT_TARGET_PATH=os.path.join(work, "target"),
           DBT_LOG_PATH=os.path.join(work, "logs"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")

with psycopg.connect(f"host={host} port={port} user=root dbname=dev", autocommit=True) as c:
    c.execute("CREATE TABLE dbt_events (data JSONB)")
    for i, (event, revenue) in enumerate([("Order Completed", "12.50"), ("Signed Up", None),
                                          ("Order Completed", "3"), ("Page Viewed", None)]):
        doc = {"messageId": f"m-{i}", "event": event}
        if revenue:
            doc["properties"] = {"revenue": float(revenue)}
        c.execute("INSERT INTO dbt_events VALUES (%s::jsonb)", (json.dumps(doc),))


def dbt(*args):
    cmd = ["dbt", *args, "--project-dir", project, "--profiles-dir", work]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


dbt("debug")
dbt("run")
dbt("run")
tested = dbt("test")
assert "PASS=5" in tested, tested
dbt("docs", "generate")
catalog = json.load(open(os.path.join(work, "target", "catalog.json")))
nodes = catalog["nodes"]
counts = nodes["model.rivulet_client_check.event_counts"]
assert set(counts["columns"]) == {"event", "n"}, counts["columns"]
repeat = nodes["model.rivulet_client_check.repeat_events"]
assert repeat["metadata"]["type"] == "VIEW", repeat["metadata"]
dbt("run", "--full-refresh")

with psycopg.connect(f"host={host} port={port} user=root dbname=dev", autocommit=True) as c:
    got = sorted(c.execute("SELECT event, n FROM event_counts").fetchall())
    assert got == [("Order Completed", 2), ("Page Viewed", 1), ("Signed Up", 1)], got
    c.execute("INSERT INTO dbt_events VALUES ('{\"messageId\": \"m-9\", \"event\": \"Signed Up\"}')")
    got = c.execute("SELECT n FROM event_counts WHERE event = 'Signed Up'").fetchone()
    assert got == (2,), got
    # The view model reads the materialized view as it is now.
    got = sorted(c.execute("SELECT event, n FROM repeat_events").fetchall())
    assert got == [("Order Completed", 2), ("Signed Up", 2)], got
    orders = sorted(c.execute("SELECT message_id, revenue::text FROM big_orders").fetchall())
    assert orders == [("m-0", "12.5"), ("m-2", "3.0")], orders
print("dbt over dbt-risingwave: ok")
