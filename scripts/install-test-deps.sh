#!/usr/bin/env bash
# Installs what the tests need when it is missing: the PostgreSQL 15 server
# (the oracle the tests compare against), psql, the Python drivers and
# SQLAlchemy (psycopg 3, psycopg2), Node.js, node-postgres and Segment's
# destination code (tests/clients), a JDK with Debian's pgJDBC driver, and
# Chromium (the status page test).
# Debian/Ubuntu only.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! python3 -c "import psycopg, psycopg2, sqlalchemy, pandas" >/dev/null 2>&1; then
  echo "==> installing psycopg 3, psycopg2, SQLAlchemy 2 and pandas (client tests)"
  python3 -m pip install --quiet --disable-pip-version-check \
    "psycopg[binary]>=3.1,<4" "psycopg2-binary>=2.9,<3" "sqlalchemy>=2,<3" "pandas>=2,<3"
fi

if ! python3 -c "import dbt.adapters.risingwave" >/dev/null 2>&1; then
  # dbt-core 1.11 fetches a parser from GitHub while installing; 1.10 is
  # the newest that installs from PyPI alone.
  echo "==> installing dbt with dbt-risingwave (client tests)"
  python3 -m pip install --quiet --disable-pip-version-check \
    "dbt-core>=1.8,<1.11" "dbt-postgres<1.10" "dbt-risingwave>=1.9,<1.11"
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "==> installing Node.js and npm (client tests)"
  apt_install nodejs npm
fi
if [ ! -d tests/clients/node/node_modules ]; then
  echo "==> installing node-postgres (client tests)"
  (cd tests/clients/node && npm ci --no-audit --no-fund --silent)
fi
if [ ! -d tests/clients/segment/node_modules ]; then
  echo "==> installing Segment's Webhooks (Actions) destination (sender tests)"
  (cd tests/clients/segment && npm ci --no-audit --no-fund --silent --ignore-scripts)
fi

if ! command -v javac >/dev/null 2>&1 || [ ! -f /usr/share/java/postgresql.jar ]; then
  echo "==> installing a JDK and pgJDBC (client tests)"
  apt_install openjdk-17-jdk-headless libpostgresql-jdbc-java
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium (the status page is checked in a headless browser)"
  apt_install chromium fonts-dejavu-core
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
# Do not create or start a system cluster; the tests start their own.
$SUDO mkdir -p /etc/postgresql-common
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
apt_install postgresql-15 postgresql-client-15
have_pg || { echo "postgresql-15 installation did not provide initdb/psql" >&2; exit 1; }
