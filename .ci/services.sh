# Real Redis, Postgres, etcd and MariaDB servers on loopback, for the polykv tests.
#
#   source .ci/services.sh start   # start all four, export POLYKV_TEST_*_URL in this shell
#   source .ci/services.sh stop    # stop them and delete their data
#   bash .ci/services.sh start     # same, prints the export lines: eval "$(bash .ci/services.sh start)"
#   bash .ci/services.sh status    # what is running
#
# Everything lives in one temp dir (POLYKV_SERVICES_DIR, default /tmp/polykv-services-<uid>),
# nothing is written elsewhere. Ports (non-default so a system server never collides):
#   POLYKV_REDIS_PORT=16379  POLYKV_POSTGRES_PORT=15432  POLYKV_ETCD_PORT=23790 (peer port +10)
#   POLYKV_MYSQL_PORT=13306  POLYKV_REDIS_CLUSTER_PORT=17000 (six nodes: 17000-17005, buses +10000)
# The Redis Cluster (three masters, three replicas) is made by scripts/redis-cluster.mjs,
# which the failover tests also use for clusters of their own.
# Postgres refuses to run as root, so under root it runs as the `postgres` user; MariaDB
# likewise runs as the `mysql` user.
# The Postgres cluster uses the ICU root collation, so text does NOT sort like "C": the
# driver's range scans must say COLLATE "C" themselves, and the tests prove it.
# MariaDB reads no option file (--no-defaults), so its server default character set is
# the compiled-in latin1: the MySQL driver's table must declare its own (binary) types.
# Progress goes to stderr; in sourced mode the caller's shell options are left alone.

_pkv_dir="${POLYKV_SERVICES_DIR:-${TMPDIR:-/tmp}/polykv-services-$(id -u)}"
_pkv_redis_port="${POLYKV_REDIS_PORT:-16379}"
_pkv_pg_port="${POLYKV_POSTGRES_PORT:-15432}"
_pkv_etcd_port="${POLYKV_ETCD_PORT:-23790}"
_pkv_etcd_peer_port=$((_pkv_etcd_port + 10))
_pkv_mysql_port="${POLYKV_MYSQL_PORT:-13306}"
_pkv_cluster_port="${POLYKV_REDIS_CLUSTER_PORT:-17000}"
_pkv_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_pkv_say() { echo "[services] $*" >&2; }
_pkv_fail() { echo "[services] ERROR: $*" >&2; return 1; }

# The Debian server binaries, never whatever else happens to be first on PATH.
_pkv_pg_bindir() {
  if [ -n "${POLYKV_PG_BINDIR:-}" ]; then echo "$POLYKV_PG_BINDIR"; return 0; fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$newest" ]; then echo "$newest"; return 0; fi
  command -v pg_config >/dev/null && pg_config --bindir
}

# Wait up to $1 seconds for the command in "$@" (after $1) to succeed.
_pkv_wait() {
  local seconds=$1; shift
  local i
  for ((i = 0; i < seconds * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# etcd answers GET /health with {"health":"true"}; bash's /dev/tcp avoids needing curl.
_pkv_etcd_healthy() {
  local reply
  reply=$(exec 3<>"/dev/tcp/127.0.0.1/$_pkv_etcd_port" && printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && timeout 2 cat <&3) || return 1
  [[ "$reply" == *'"health":"true"'* ]]
}

# Run a command as the postgres user when we are root (Postgres refuses root).
_pkv_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The MariaDB client, as its root user over the server's own socket.
_pkv_mysql() {
  mariadb --no-defaults --socket="$_pkv_dir/mysql/mysql.sock" -u root "$@"
}

_pkv_exports() {
  export POLYKV_TEST_REDIS_URL="redis://127.0.0.1:$_pkv_redis_port"
  export POLYKV_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$_pkv_pg_port/polykv"
  export POLYKV_TEST_ETCD_URL="http://127.0.0.1:$_pkv_etcd_port"
  export POLYKV_TEST_MYSQL_URL="mysql://polykv@127.0.0.1:$_pkv_mysql_port/polykv"
  export POLYKV_TEST_REDIS_CLUSTER_URL="redis+cluster://127.0.0.1:$_pkv_cluster_port,127.0.0.1:$((_pkv_cluster_port + 1)),127.0.0.1:$((_pkv_cluster_port + 2))"
  export POLYKV_SERVICES_DIR="$_pkv_dir"
}

_pkv_start_redis_cluster() {
  _pkv_say "Redis Cluster on 127.0.0.1:$_pkv_cluster_port-$((_pkv_cluster_port + 5)) (3 masters, 3 replicas, data in $_pkv_dir/redis-cluster)"
  node "$_pkv_root/scripts/redis-cluster.mjs" start --dir "$_pkv_dir/redis-cluster" --port "$_pkv_cluster_port" >/dev/null ||
    { _pkv_fail "the Redis Cluster did not start"; return 1; }
}

_pkv_start_redis() {
  command -v redis-server >/dev/null || { _pkv_fail "redis-server not found (apt-get install redis-server)"; return 1; }
  mkdir -p "$_pkv_dir/redis"
  # 64 databases: each conformance run claims one of its own for its unprefixed rows
  # (__test__/fixtures/places.mjs), so many engineers can run the tests at once.
  _pkv_say "redis-server on 127.0.0.1:$_pkv_redis_port (no persistence, 64 databases, data in $_pkv_dir/redis)"
  redis-server --bind 127.0.0.1 --port "$_pkv_redis_port" --save "" --appendonly no --databases 64 \
    --dir "$_pkv_dir/redis" --daemonize yes --pidfile "$_pkv_dir/redis/redis.pid" \
    --logfile "$_pkv_dir/redis/redis.log" || { _pkv_fail "redis-server did not start"; return 1; }
  _pkv_wait 15 redis-cli -h 127.0.0.1 -p "$_pkv_redis_port" ping ||
    { tail -n 20 "$_pkv_dir/redis/redis.log" >&2; _pkv_fail "redis-server does not answer PING"; return 1; }
}

_pkv_start_postgres() {
  local bin
  bin=$(_pkv_pg_bindir)
  [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] ||
    { _pkv_fail "Postgres server binaries not found (apt-get install postgresql)"; return 1; }
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir "$_pkv_dir/postgres" --shell /usr/sbin/nologin postgres || return 1
  fi
  local data="$_pkv_dir/postgres/data"
  mkdir -p "$_pkv_dir/postgres"
  if [ "$(id -u)" = 0 ]; then chown postgres "$_pkv_dir/postgres" || return 1; fi
  _pkv_say "postgres ($("$bin/postgres" --version)) on 127.0.0.1:$_pkv_pg_port, data in $data"
  # Trust auth on loopback only; ICU root collation so the database default is not "C".
  _pkv_as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --locale-provider=icu --icu-locale=und >"$_pkv_dir/postgres/initdb.log" 2>&1 ||
    { tail -n 20 "$_pkv_dir/postgres/initdb.log" >&2; _pkv_fail "initdb failed"; return 1; }
  _pkv_as_pg "$bin/pg_ctl" -D "$data" -l "$_pkv_dir/postgres/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $_pkv_pg_port -k $_pkv_dir/postgres -c fsync=off" start >/dev/null ||
    { tail -n 20 "$_pkv_dir/postgres/server.log" >&2; _pkv_fail "pg_ctl start failed"; return 1; }
  _pkv_wait 30 "$bin/pg_isready" -q -h 127.0.0.1 -p "$_pkv_pg_port" ||
    { _pkv_fail "postgres does not answer"; return 1; }
  _pkv_as_pg "$bin/createdb" -h 127.0.0.1 -p "$_pkv_pg_port" -U postgres polykv ||
    { _pkv_fail "createdb polykv failed"; return 1; }
}

_pkv_start_etcd() {
  command -v etcd >/dev/null || { _pkv_fail "etcd not found (apt-get install etcd-server)"; return 1; }
  mkdir -p "$_pkv_dir/etcd"
  _pkv_say "etcd ($(etcd --version | head -n 1)) on 127.0.0.1:$_pkv_etcd_port, data in $_pkv_dir/etcd"
  local client="http://127.0.0.1:$_pkv_etcd_port" peer="http://127.0.0.1:$_pkv_etcd_peer_port"
  nohup etcd --name polykv --data-dir "$_pkv_dir/etcd/data" \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "polykv=$peer" --initial-cluster-state new \
    >"$_pkv_dir/etcd/etcd.log" 2>&1 </dev/null &
  echo $! >"$_pkv_dir/etcd/etcd.pid"
  _pkv_wait 30 _pkv_etcd_healthy ||
    { tail -n 20 "$_pkv_dir/etcd/etcd.log" >&2; _pkv_fail "etcd is not healthy"; return 1; }
}

_pkv_start_mysql() {
  command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null ||
    { _pkv_fail "mariadbd not found (apt-get install mariadb-server)"; return 1; }
  local data="$_pkv_dir/mysql/data" user=()
  mkdir -p "$_pkv_dir/mysql"
  if [ "$(id -u)" = 0 ]; then
    if ! id mysql >/dev/null 2>&1; then
      useradd --system --home-dir "$_pkv_dir/mysql" --shell /usr/sbin/nologin mysql || return 1
    fi
    chown mysql "$_pkv_dir/mysql" || return 1
    user=(--user=mysql)
  fi
  _pkv_say "mariadb ($(mariadbd --version | sed 's/^.*Ver //')) on 127.0.0.1:$_pkv_mysql_port, data in $data"
  # A root without password, reachable only through the socket in the services dir.
  mariadb-install-db --no-defaults "${user[@]}" --datadir="$data" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve >"$_pkv_dir/mysql/install.log" 2>&1 ||
    { tail -n 20 "$_pkv_dir/mysql/install.log" >&2; _pkv_fail "mariadb-install-db failed"; return 1; }
  # No durability needed (like Postgres' fsync=off): commits are not flushed to disk. A statement
  # may carry 64 MiB (MySQL 8's default; MariaDB's is 16 MiB), so a 25 MiB binary value fits.
  nohup mariadbd --no-defaults "${user[@]}" --datadir="$data" --bind-address=127.0.0.1 \
    --port="$_pkv_mysql_port" --socket="$_pkv_dir/mysql/mysql.sock" --pid-file="$_pkv_dir/mysql/mysql.pid" \
    --log-error="$_pkv_dir/mysql/server.log" --skip-name-resolve --max-connections=1000 --max-allowed-packet=64M \
    --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=128M --innodb-doublewrite=0 \
    >/dev/null 2>&1 </dev/null &
  _pkv_wait 30 _pkv_mysql -e "SELECT 1" ||
    { tail -n 20 "$_pkv_dir/mysql/server.log" >&2; _pkv_fail "mariadbd does not answer"; return 1; }
  # The tests' user: no password, loopback only, may create the private databases of each run.
  _pkv_mysql -e "CREATE USER 'polykv'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'polykv'@'127.0.0.1';
    CREATE DATABASE polykv;" || { _pkv_fail "creating the polykv user and database failed"; return 1; }
}

polykv_services_stop() {
  [ -d "$_pkv_dir" ] || { _pkv_say "nothing to stop ($_pkv_dir does not exist)"; return 0; }
  local pid bin
  if [ -f "$_pkv_dir/redis/redis.pid" ]; then
    pid=$(cat "$_pkv_dir/redis/redis.pid")
    _pkv_say "stopping redis-server (pid $pid)"
    kill "$pid" 2>/dev/null || true
  fi
  if [ -f "$_pkv_dir/postgres/data/postmaster.pid" ]; then
    bin=$(_pkv_pg_bindir)
    _pkv_say "stopping postgres"
    _pkv_as_pg "$bin/pg_ctl" -D "$_pkv_dir/postgres/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      kill "$(head -n 1 "$_pkv_dir/postgres/data/postmaster.pid")" 2>/dev/null || true
  fi
  if [ -f "$_pkv_dir/etcd/etcd.pid" ]; then
    pid=$(cat "$_pkv_dir/etcd/etcd.pid")
    _pkv_say "stopping etcd (pid $pid)"
    kill "$pid" 2>/dev/null || true
    _pkv_wait 10 bash -c "! kill -0 $pid" || true
  fi
  if [ -f "$_pkv_dir/mysql/mysql.pid" ]; then
    pid=$(cat "$_pkv_dir/mysql/mysql.pid")
    _pkv_say "stopping mariadbd (pid $pid)"
    kill "$pid" 2>/dev/null || true
    _pkv_wait 30 bash -c "! kill -0 $pid" || true
  fi
  if [ -d "$_pkv_dir/redis-cluster" ]; then
    _pkv_say "stopping the Redis Cluster"
    node "$_pkv_root/scripts/redis-cluster.mjs" stop --dir "$_pkv_dir/redis-cluster" || true
  fi
  rm -rf "$_pkv_dir"
  unset POLYKV_TEST_REDIS_CLUSTER_URL POLYKV_TEST_REDIS_URL POLYKV_TEST_POSTGRES_URL POLYKV_TEST_ETCD_URL POLYKV_TEST_MYSQL_URL POLYKV_SERVICES_DIR
  _pkv_say "stopped, removed $_pkv_dir"
}

polykv_services_start() {
  if [ -d "$_pkv_dir" ]; then
    _pkv_say "$_pkv_dir exists: stopping the previous servers first"
    polykv_services_stop
  fi
  mkdir -p "$_pkv_dir" && chmod 755 "$_pkv_dir" || return 1
  _pkv_start_redis && _pkv_start_redis_cluster && _pkv_start_postgres && _pkv_start_etcd && _pkv_start_mysql ||
    { _pkv_say "start failed; cleaning up"; polykv_services_stop; return 1; }
  _pkv_exports
  _pkv_say "ready:"
  _pkv_say "  POLYKV_TEST_REDIS_URL=$POLYKV_TEST_REDIS_URL"
  _pkv_say "  POLYKV_TEST_REDIS_CLUSTER_URL=$POLYKV_TEST_REDIS_CLUSTER_URL"
  _pkv_say "  POLYKV_TEST_POSTGRES_URL=$POLYKV_TEST_POSTGRES_URL"
  _pkv_say "  POLYKV_TEST_ETCD_URL=$POLYKV_TEST_ETCD_URL"
  _pkv_say "  POLYKV_TEST_MYSQL_URL=$POLYKV_TEST_MYSQL_URL"
}

polykv_services_status() {
  redis-cli -h 127.0.0.1 -p "$_pkv_redis_port" ping >/dev/null 2>&1 && _pkv_say "redis: up" || _pkv_say "redis: down"
  redis-cli -h 127.0.0.1 -p "$_pkv_cluster_port" cluster info 2>/dev/null | grep -q cluster_state:ok &&
    _pkv_say "redis cluster: up" || _pkv_say "redis cluster: down"
  "$(_pkv_pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$_pkv_pg_port" && _pkv_say "postgres: up" || _pkv_say "postgres: down"
  _pkv_etcd_healthy && _pkv_say "etcd: up" || _pkv_say "etcd: down"
  _pkv_mysql -e "SELECT 1" >/dev/null 2>&1 && _pkv_say "mariadb: up" || _pkv_say "mariadb: down"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: act on "$1" if given, else only define the functions.
  case "${1:-}" in
    start) polykv_services_start ;;
    stop) polykv_services_stop ;;
    status) polykv_services_status ;;
    "") ;;
    *) _pkv_fail "usage: source .ci/services.sh start|stop|status" ;;
  esac
else
  case "${1:-}" in
    start)
      polykv_services_start || exit 1
      echo "export POLYKV_TEST_REDIS_URL='$POLYKV_TEST_REDIS_URL'"
      echo "export POLYKV_TEST_REDIS_CLUSTER_URL='$POLYKV_TEST_REDIS_CLUSTER_URL'"
      echo "export POLYKV_TEST_POSTGRES_URL='$POLYKV_TEST_POSTGRES_URL'"
      echo "export POLYKV_TEST_ETCD_URL='$POLYKV_TEST_ETCD_URL'"
      echo "export POLYKV_TEST_MYSQL_URL='$POLYKV_TEST_MYSQL_URL'"
      echo "export POLYKV_SERVICES_DIR='$POLYKV_SERVICES_DIR'"
      ;;
    stop) polykv_services_stop ;;
    status) polykv_services_status ;;
    *) echo "usage: bash .ci/services.sh start|stop|status" >&2; exit 2 ;;
  esac
fi
