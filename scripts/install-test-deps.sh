#!/usr/bin/env bash
# Installs what the tests need when it is missing: the PostgreSQL 15 server
# (the oracle the tests compare against), psql, and psycopg 3 (a driver the
# tests use). Debian/Ubuntu only.
set -euo pipefail

if ! python3 -c "import psycopg" >/dev/null 2>&1; then
  echo "==> installing psycopg 3 (driver test)"
  python3 -m pip install --quiet --disable-pip-version-check "psycopg[binary]>=3.1,<4"
fi

have_pg() {
  command -v psql >/dev/null 2>&1 || return 1
  command -v initdb >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if have_pg; then
  exit 0
fi

echo "==> installing postgresql-15 (test oracle and psql)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# Do not create or start a system cluster; the tests start their own.
$SUDO mkdir -p /etc/postgresql-common
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 >/dev/null
have_pg || { echo "postgresql-15 installation did not provide initdb/psql" >&2; exit 1; }
