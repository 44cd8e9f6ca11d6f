#!/usr/bin/env bash
# Replays the README quickstart (RisingWave's "Ingest data from Segment
# webhook" guide) against a running Rivulet: creates the secret, webhook
# table and view, sends Segment-signed events with curl, and queries the view
# with psql. Safe to run repeatedly.
#
#   cargo run --release &      # in another terminal
#   scripts/quickstart.sh
set -euo pipefail

PGHOST=${PGHOST:-localhost}
PGPORT=${PGPORT:-4566}
WEBHOOK=${WEBHOOK:-http://localhost:4560}
SECRET=TEST_WEBHOOK
PSQL=(psql -h "$PGHOST" -p "$PGPORT" -d dev -U root -X -v ON_ERROR_STOP=1)

for tool in psql curl python3; do
  command -v "$tool" >/dev/null || { echo "quickstart needs $tool" >&2; exit 1; }
done

# Segment signs the raw body: X-Signature = hex(HMAC-SHA1(secret, body)).
sign() {
  python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha1).hexdigest())' "$SECRET" "$1"
}

send() {
  local body=$1
  curl -sS -o /dev/null -w "HTTP %{http_code}\n" -X POST \
    -H "Content-Type: application/json" \
    -H "User-Agent: Segment (Actions)" \
    -H "X-Signature: $(sign "$body")" \
    --data-binary "$body" \
    "$WEBHOOK/webhook/dev/public/wbhtable"
}

echo "--- 1. create the secret, the webhook table and a materialized view"
"${PSQL[@]}" <<'SQL'
DROP TABLE IF EXISTS wbhtable CASCADE;
DROP SECRET IF EXISTS test_secret;
CREATE SECRET test_secret WITH (backend = 'meta') AS 'TEST_WEBHOOK';
CREATE TABLE wbhtable (data JSONB) WITH (connector = 'webhook')
  VALIDATE SECRET test_secret AS secure_compare(
    headers->>'x-signature',
    encode(hmac(test_secret, data, 'sha1'), 'hex'));
CREATE MATERIALIZED VIEW events AS
  SELECT data->>'type' AS type,
         data->>'event' AS event,
         data->>'userId' AS user_id,
         (data->>'timestamp')::timestamptz AS ts,
         data->'properties'->>'plan' AS plan
  FROM wbhtable;
SQL

echo "--- 2. send Segment-signed events"
send '{"type":"track","event":"Signed Up","userId":"u-1001","messageId":"m-1","timestamp":"2015-12-12T19:11:01.249Z","properties":{"plan":"Pro"}}'
send '{"type":"identify","userId":"u-1002","messageId":"m-2","timestamp":"2015-12-12T19:12:44.003Z","traits":{"email":"ada@example.com"}}'
echo "--- a forged signature is refused"
curl -sS -w " HTTP %{http_code}\n" -X POST -H "X-Signature: deadbeef" \
  --data-binary '{"type":"track","event":"Forged"}' "$WEBHOOK/webhook/dev/public/wbhtable"

echo "--- 3. the view is already current"
"${PSQL[@]}" -c "SELECT * FROM events ORDER BY ts"
