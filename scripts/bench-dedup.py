#!/usr/bin/env python3
"""What storing each delivery once costs: posts N Segment-like events as
NDJSON batches (bodies made beforehand) from 4 threads to a table without
and one with `dedup_field`, prints events/s for each, then resends events
already stored (all duplicates).

Usage, against a running Rivulet with both tables:
  psql -h 127.0.0.1 -p 4566 -d dev -U root -c "
    CREATE TABLE plain (data JSONB) WITH (connector = 'webhook', is_batched = true);
    CREATE TABLE once (data JSONB) WITH (connector = 'webhook', is_batched = true, dedup_field = 'messageId');"
  python3 scripts/bench-dedup.py 127.0.0.1:4560 1000000 1000
"""
import json, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
hook, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bodies = ["\n".join(json.dumps({"messageId": f"m-{b}-{i}", "type": "track", "event": "Order Completed",
                                 "userId": f"u{i % 5000}", "properties": {"revenue": i % 100}})
                    for i in range(batch)).encode() for b in range(n // batch)]
def post(table, body):
    req = urllib.request.Request(f"http://{hook}/webhook/dev/public/{table}", data=body, method="POST")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
def run(table, bs):
    start = time.time()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda body: post(table, body), bs))
    return time.time() - start
for table in ["plain", "once"]:
    took = run(table, bodies)
    print(f"{table}: {n:,} events in {took:.1f} s = {n/took:,.0f} events/s")
took = run("once", bodies[-200:])
print(f"once, resending {200*batch:,} events already stored: {200*batch/took:,.0f} events/s")
