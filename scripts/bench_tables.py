#!/usr/bin/env python3
"""Ingest into several webhook tables, one after another: posts N
Segment-like events as NDJSON batches (bodies made beforehand) from 4
threads to each table named and prints events/s for each. The other
`bench-*.py` scripts build on it.

Usage, against a running Rivulet with the tables (created with
`is_batched = true`); `--items` gives each event three line items:
  python3 scripts/bench_tables.py [--items] 127.0.0.1:4560 1000000 1000 plain other ...
"""
import json, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor


def bodies(n, batch, items=False):
    """n events as NDJSON bodies of `batch` events, each with its own id
    (and, with `items`, an array of three line items)."""
    def event(b, i):
        e = {"messageId": f"m-{b}-{i}", "type": "track", "event": "Order Completed",
             "userId": f"u{i % 5000}", "properties": {"revenue": i % 100}}
        if items:
            e["properties"]["items"] = [{"sku": f"s{i % 50}", "q": 1}, {"sku": f"t{i % 7}", "q": 2},
                                        {"sku": "u", "q": 3}]
        return json.dumps(e)
    return ["\n".join(event(b, i) for i in range(batch)).encode() for b in range(n // batch)]


def post(hook, table, body):
    req = urllib.request.Request(f"http://{hook}/webhook/dev/public/{table}", data=body, method="POST")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200


def run(hook, table, bs):
    """Seconds to post every body in `bs` to `table` from 4 threads."""
    start = time.time()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda body: post(hook, table, body), bs))
    return time.time() - start


if __name__ == "__main__":
    args = sys.argv[1:]
    items = "--items" in args
    args = [a for a in args if a != "--items"]
    hook, n, batch, tables = args[0], int(args[1]), int(args[2]), args[3:]
    bs = bodies(n, batch, items)
    for table in tables:
        took = run(hook, table, bs)
        print(f"{table}: {n:,} events in {took:.1f} s = {n/took:,.0f} events/s")
