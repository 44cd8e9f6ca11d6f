#!/usr/bin/env python3
"""What storing each delivery once costs: posts N Segment-like events as
NDJSON batches from 4 threads to a table without and one with
`dedup_field`, prints events/s for each, then resends events already
stored (all duplicates).

Usage, against a running Rivulet with both tables:
  psql -h 127.0.0.1 -p 4566 -d dev -U root -c "
    CREATE TABLE plain (data JSONB) WITH (connector = 'webhook', is_batched = true);
    CREATE TABLE once (data JSONB) WITH (connector = 'webhook', is_batched = true, dedup_field = 'messageId');"
  python3 scripts/bench-dedup.py 127.0.0.1:4560 1000000 1000
"""
import sys
from bench_tables import bodies, run

hook, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bs = bodies(n, batch)
for table in ["plain", "once"]:
    took = run(hook, table, bs)
    print(f"{table}: {n:,} events in {took:.1f} s = {n/took:,.0f} events/s")
took = run(hook, "once", bs[-200:])
print(f"once, resending {200*batch:,} events already stored: {200*batch/took:,.0f} events/s")
