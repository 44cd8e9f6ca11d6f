"""Subscriptions through psycopg 3 across kill -9.

Starts Rivulet on a data directory, creates a Segment-signed webhook table,
a materialized view over it and a subscription to each, and reads both
subscriptions with subscription cursors (`FETCH n ... WITH (timeout)`)
while senders post signed events. Three times, the server is killed with
SIGKILL and started again on the same ports; the subscribers resume as
RisingWave's docs say, `SINCE` the last `rw_timestamp` they saw (skipping
the changes of that millisecond they already had), and the senders retry
what was not acknowledged.

Then it checks, exactly:
- the table's subscriber saw each stored event once, as an Insert, and the
  stored events are every acknowledged one (plus, at most, some that were
  stored when the kill came before their answer), no more;
- changes came in commit order (rw_timestamp never goes back);
- replaying the view's changes (Insert/UpdateInsert add a row,
  Delete/UpdateDelete remove one, which must be there) gives exactly the
  view's rows: nothing lost, nothing doubled.

Usage: python3 subscription_check.py RIVULET_BIN DATA_DIR   (exits non-zero on failure)
"""
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import psycopg

BIN, DATA = sys.argv[1], sys.argv[2]
SECRET = "sub-secret"
EVENTS = ["Order Completed", "Signed Up", "Page Viewed"]
PER_SENDER = 150
SENDERS = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PG, HOOK = free_port(), free_port()


def start():
    p = subprocess.Popen(
        [BIN, "--data-dir", DATA, "--pg-listen", f"127.0.0.1:{PG}",
         "--webhook-listen", f"127.0.0.1:{HOOK}", "--admin-listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    assert line.startswith("{"), f"no announcement: {line!r}"
    return p


def connect():
    return psycopg.connect(f"host=127.0.0.1 port={PG} user=root dbname=dev", autocommit=True)


def post(body):
    """Posts one Segment-signed event; True when acknowledged (200)."""
    data = body.encode()
    sig = hmac.new(SECRET.encode(), data, hashlib.sha1).hexdigest()
    req = urllib.request.Request(
        f"http://127.0.0.1:{HOOK}/webhook/dev/public/events", data=data, method="POST",
        headers={"Content-Type": "application/json", "x-signature": sig,
                 "User-Agent": "Segment (Actions)"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


server = start()
with connect() as c:
    c.execute(f"CREATE SECRET seg WITH (backend = 'meta') AS '{SECRET}'")
    c.execute("""CREATE TABLE events (data JSONB) WITH (connector = 'webhook')
                 VALIDATE SECRET seg AS secure_compare(headers->>'x-signature',
                 encode(hmac(seg, data, 'sha1'), 'hex'))""")
    c.execute("CREATE MATERIALIZED VIEW by_event AS "
              "SELECT data->>'event' AS event, count(*) AS n FROM events GROUP BY 1")
    # Stored before the subscriptions: not a change they carry.
    assert post(json.dumps({"type": "track", "event": "Before", "messageId": "before"}))
    c.execute("CREATE SUBSCRIPTION events_sub FROM events WITH (retention = '1h')")
    c.execute("CREATE SUBSCRIPTION by_event_sub FROM by_event WITH (retention = '1h')")

acked = set()
tried = set()
lock = threading.Lock()
stop_senders = threading.Event()
down = threading.Event()


def sender(k):
    for i in range(PER_SENDER):
        mid = f"m-{k}-{i}"
        body = json.dumps({"type": "track", "event": EVENTS[(i + k) % 3], "messageId": mid,
                           "userId": f"u{i % 7}", "properties": {"i": i}})
        with lock:
            tried.add(mid)
        while not post(body):
            # Refused or cut off: a sender retries (the event may have been
            # stored before the kill; then it is stored again, which the
            # check allows only for unacknowledged ids... see below).
            time.sleep(0.05)
            if stop_senders.is_set():
                return
        with lock:
            acked.add(mid)
        time.sleep(0.002)


class Subscriber:
    """Reads a subscription as RisingWave's docs resume one: the last
    rw_timestamp is the progress; after a failure the cursor is declared
    again SINCE it, and the changes of that millisecond already seen are
    skipped (they come back in the same order)."""

    def __init__(self, sub):
        self.sub = sub
        self.rows = []
        self.last_ts = None
        self.seen_at_last = 0
        self.resumes = 0
        self.done = threading.Event()
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the main thread
            self.error = e

    def _run(self):
        while not self.done.is_set():
            try:
                with connect() as conn:
                    cur = conn.cursor()
                    if self.last_ts is None:
                        cur.execute(f"DECLARE c SUBSCRIPTION CURSOR FOR {self.sub} SINCE begin()")
                        skip = 0
                    else:
                        cur.execute(f"DECLARE c SUBSCRIPTION CURSOR FOR {self.sub} SINCE {self.last_ts}")
                        skip = self.seen_at_last
                        self.resumes += 1
                    while True:
                        cur.execute("FETCH 50 FROM c WITH (timeout = '200ms')")
                        got = cur.fetchall()
                        for row in got:
                            ts = row[-1]
                            if skip and ts == self.last_ts:
                                skip -= 1
                                continue
                            assert not skip or ts > self.last_ts, "a resumed cursor skipped changes"
                            skip = 0
                            if ts != self.last_ts:
                                assert self.last_ts is None or ts > self.last_ts, \
                                    f"{self.sub}: rw_timestamp went back from {self.last_ts} to {ts}"
                                self.last_ts, self.seen_at_last = ts, 0
                            self.seen_at_last += 1
                            self.rows.append(row)
                        if not got and self.done.is_set():
                            return
            except psycopg.OperationalError:
                time.sleep(0.2)  # the server is down: try again


subs = [Subscriber("events_sub"), Subscriber("by_event_sub")]
threads = [threading.Thread(target=s.run) for s in subs]
threads += [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
for t in threads:
    t.start()

# Kill at a quarter, half and three quarters of the events, mid-stream.
for quarter in (1, 2, 3):
    while len(acked) < SENDERS * PER_SENDER * quarter // 4:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)
    server.wait()
    time.sleep(0.3)
    server = start()

for t in threads[2:]:
    t.join()
# Every send is acknowledged now; let the subscribers catch up, then stop.
time.sleep(1.5)
for s in subs:
    s.done.set()
for t in threads[:2]:
    t.join()
for s in subs:
    assert s.error is None, f"{s.sub}: {s.error!r}"
    assert s.resumes >= 3, f"{s.sub} resumed {s.resumes} times for three kills"

with connect() as c:
    stored = [r[0] for r in c.execute("SELECT data->>'messageId' FROM events").fetchall()]
    view = sorted((r[0], r[1]) for r in c.execute("SELECT event, n FROM by_event").fetchall())
server.send_signal(signal.SIGTERM)
server.wait()

events_sub, view_sub = subs
stored_counts = Counter(stored)
# A retried event whose first try was stored just before the kill is
# stored twice (the table does not deduplicate): both are real rows, and
# the subscriber must have seen each.
assert set(acked) <= set(stored_counts), f"acknowledged but not stored: {set(acked) - set(stored_counts)}"
assert set(stored_counts) <= tried | {"before"}, "stored an event nobody sent"
ops = Counter(r[-2] for r in events_sub.rows)
assert set(ops) == {"Insert"}, f"table changes should be inserts only: {ops}"
seen = Counter(json.loads(r[0])["messageId"] if isinstance(r[0], str) else r[0]["messageId"]
               for r in events_sub.rows)
expected = Counter(stored_counts)
del expected["before"]
assert seen == expected, (
    f"subscriber saw {sum(seen.values())} changes, table has {sum(expected.values())}: "
    f"missing {expected - seen}, extra {seen - expected}")

replayed = Counter()
for event, n, op, ts in view_sub.rows:
    if op in ("Insert", "UpdateInsert"):
        replayed[(event, n)] += 1
    else:
        assert replayed[(event, n)] > 0, f"{op} of a row never inserted: {(event, n)} at {ts}"
        replayed[(event, n)] -= 1
replayed = sorted(k for k, v in replayed.items() for _ in range(v))
# The view's first row ("Before") predates its subscription.
view_after = [r for r in view if r[0] != "Before"]
assert replayed == view_after, f"replayed view {replayed} != view {view_after}"
print(f"ok: {len(acked)} acknowledged, {len(stored)} stored, "
      f"{len(events_sub.rows)} table changes and {len(view_sub.rows)} view changes read, "
      f"resumed {events_sub.resumes}+{view_sub.resumes} times")
