#!/usr/bin/env bash
# Comma-joined tables (`FROM big b, small s WHERE b.k = s.k ...`): times
# the same queries on Rivulet and on PostgreSQL 15 over the same rows.
#
#   scripts/bench-comma-join.sh RIVULET_PG_PORT POSTGRES_PORT [ROWS]
#
# Both servers must be running and reachable as user root, database dev,
# on 127.0.0.1 (e.g. `target/release/rivulet --ephemeral` and a
# PostgreSQL 15 cluster with a `root` role and a `dev` database). The
# script creates and drops the tables `big` and `small` on both.
set -euo pipefail
rv_port=${1:?rivulet port}
pg_port=${2:?postgres port}
rows=${3:-1000000}
chunk=100000

load() {
    local psql="psql -h 127.0.0.1 -p $1 -U root -d dev -XAtq -v ON_ERROR_STOP=1"
    $psql -c "DROP TABLE IF EXISTS big" -c "DROP TABLE IF EXISTS small"
    $psql -c "CREATE TABLE big (id INT PRIMARY KEY, k INT, v INT)" \
        -c "CREATE TABLE small (k INT PRIMARY KEY, name TEXT)"
    for ((start = 1; start <= rows; start += chunk)); do
        local end=$((start + chunk - 1 < rows ? start + chunk - 1 : rows))
        $psql -c "INSERT INTO big SELECT g, g % 1000, g % 7 FROM generate_series($start, $end) g"
    done
    $psql -c "INSERT INTO small SELECT g, 'n' || g FROM generate_series(0, 999) g"
}

queries=(
    "SELECT count(*), sum(b.v) FROM big b, small s WHERE b.k = s.k AND s.name LIKE 'n1%'"
    "SELECT s.name, count(*) FROM big b, small s WHERE b.k = s.k AND b.v = 3 GROUP BY s.name ORDER BY 2 DESC, 1 LIMIT 3"
)

# Median of three runs, in milliseconds, and the answer.
time_query() {
    local psql="psql -h 127.0.0.1 -p $1 -U root -d dev -XAt"
    local times=() answer=""
    for _ in 1 2 3; do
        local s e
        s=$(date +%s%N)
        answer=$($psql -c "$2" | tr '\n' ' ')
        e=$(date +%s%N)
        times+=($(((e - s) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 2p | tr -d '\n'
    echo " ms | $answer"
}

load "$rv_port"
load "$pg_port"
psql -h 127.0.0.1 -p "$pg_port" -U root -d dev -XAtq -c "VACUUM ANALYZE big" -c "VACUUM ANALYZE small"
for q in "${queries[@]}"; do
    echo "$q"
    echo "  rivulet:    $(time_query "$rv_port" "$q")"
    echo "  postgresql: $(time_query "$pg_port" "$q")"
done
