#!/usr/bin/env bash
# The city layout on one machine: PostGIS, N app replicas and nginx in front (TLS, sticky
# sessions, WebSocket upgrade), everything on 127.0.0.1.
#
#   bash scripts/serve_cluster.sh start [--replicas N] [--port 8443]   # https://127.0.0.1:8443
#   bash scripts/serve_cluster.sh status
#   bash scripts/serve_cluster.sh stop-replica K     # stop replica K (1..N); nginx sends its users on
#   bash scripts/serve_cluster.sh start-replica K
#   bash scripts/serve_cluster.sh stop
#
# State lives in $GRIDMAP_CLUSTER_DIR (default /var/tmp/gridmap-cluster): the database cluster,
# generated passwords (a 0600 password file used through PGPASSFILE, never in a URL), the
# self-signed certificate, logs and process ids. Replicas keep nothing: PostGIS is the only state.
# To use the city's certificate, put it and its key at $GRIDMAP_CLUSTER_DIR/tls/cert.pem and
# tls/key.pem before `start` (the script makes a self-signed pair only when none is there).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${GRIDMAP_CLUSTER_DIR:-/var/tmp/gridmap-cluster}
PG_BIN=/usr/lib/postgresql/15/bin
DB=shiyan
action=${1:-start}
shift || true
replicas=2
port=8443
first_app_port=${GRIDMAP_CLUSTER_APP_PORT:-8601}
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) replicas=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) break ;;
  esac
done
[ -f "$DIR/cluster.env" ] && . "$DIR/cluster.env"

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# a process that runs (an exited one left unreaped by its parent counts as gone)
running() { kill -0 "$1" 2>/dev/null && ! grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
socket_url() { echo "postgresql://$1@/$DB?host=$DIR/pg/socket"; }

app_env() {
  export PGPASSFILE="$DIR/secrets/pgpass"
  export GRIDMAP_STORE
  GRIDMAP_STORE=$(socket_url gridmap_app)
}

start_postgres() {
  mkdir -p "$DIR"/{run,log,secrets}
  chmod 700 "$DIR/secrets"
  if [ ! -d "$DIR/pg/data" ]; then
    echo "==> creating the PostGIS cluster in $DIR/pg"
    mkdir -p "$DIR/pg/socket"
    chown -R postgres:postgres "$DIR/pg" 2>/dev/null || true
    for role in postgres gridmap_owner gridmap_app; do
      [ -f "$DIR/secrets/$role" ] || (umask 077; openssl rand -hex 24 > "$DIR/secrets/$role")
    done
    install -m 600 -o postgres "$DIR/secrets/postgres" "$DIR/pg/pwfile" 2>/dev/null \
      || install -m 600 "$DIR/secrets/postgres" "$DIR/pg/pwfile"
    as_postgres "$PG_BIN/initdb" -D "$DIR/pg/data" -U postgres --pwfile="$DIR/pg/pwfile" \
      --auth=scram-sha-256 -E UTF8 --locale=C >"$DIR/log/initdb.log"
    rm -f "$DIR/pg/pwfile"
    (umask 077; : > "$DIR/secrets/pgpass")
    for role in postgres gridmap_owner gridmap_app; do
      echo "*:*:*:$role:$(cat "$DIR/secrets/$role")" >> "$DIR/secrets/pgpass"
    done
  fi
  export PGPASSFILE="$DIR/secrets/pgpass"
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg/data" status >/dev/null 2>&1; then
    # one machine: Unix socket only. On several machines set listen_addresses and hostssl rules.
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w start \
      -o "-c listen_addresses='' -c unix_socket_directories=$DIR/pg/socket" >/dev/null
  fi
  local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$DIR/pg/socket" -U postgres)
  if ! "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    echo "==> creating database $DB"
    "${psql[@]}" -d postgres -c "CREATE ROLE gridmap_owner LOGIN CREATEROLE PASSWORD '$(cat "$DIR/secrets/gridmap_owner")'"
    "${psql[@]}" -d postgres -c "CREATE DATABASE $DB OWNER gridmap_owner"
    "${psql[@]}" -d "$DB" -c "CREATE EXTENSION postgis"
    .venv/bin/python cli.py db init --owner-url "$(socket_url gridmap_owner)" \
      --app-role gridmap_app --app-password-file "$DIR/secrets/gridmap_app" >/dev/null
    app_env
    echo "==> copying the demo store into PostGIS"
    .venv/bin/python cli.py db copy --from data/demo/shiyan_demo.gpkg --to "$GRIDMAP_STORE" >/dev/null
  fi
  # a newer version of the app applies its migrations before the replicas start
  .venv/bin/python cli.py db migrate --owner-url "$(socket_url gridmap_owner)" >/dev/null
}

start_replica() {
  local k=$1 app_port=$((first_app_port + $1 - 1))
  app_env
  if [ -f "$DIR/run/replica$k.pid" ] && running "$(cat "$DIR/run/replica$k.pid")"; then
    return
  fi
  # one cookie secret for every replica (XSRF tokens and sign-in cookies are valid on all)
  [ -f "$DIR/secrets/cookie" ] || (umask 077; openssl rand -hex 32 > "$DIR/secrets/cookie")
  STREAMLIT_SERVER_COOKIE_SECRET=$(cat "$DIR/secrets/cookie") \
    GRIDMAP_REPLICA=$k nohup .venv/bin/python -m ui.serve --server.headless true \
    --server.address 127.0.0.1 --server.port "$app_port" --server.enableXsrfProtection true \
    --browser.gatherUsageStats false >"$DIR/log/replica$k.log" 2>&1 &
  echo $! > "$DIR/run/replica$k.pid"
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$app_port/_stcore/health" >/dev/null 2>&1 && return
    sleep 0.5
  done
  echo "!! replica $k did not start; see $DIR/log/replica$k.log" >&2
  return 1
}

stop_replica() {
  # returns once the replica's process has exited: until then it still holds its port and its
  # users' WebSockets (Streamlit closes them while it shuts down), so "down" would not be true yet
  local pidfile="$DIR/run/replica$1.pid" pid
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      echo "!! replica $1 did not stop in 10 s; killing it" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
}

write_nginx_conf() {
  mkdir -p "$DIR/tls" "$DIR/nginx/tmp"
  if [ ! -f "$DIR/tls/cert.pem" ]; then
    echo "==> making a self-signed certificate for 127.0.0.1 (replace it with the city's)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
    chmod 600 "$DIR/tls/key.pem"
  fi
  local servers=""
  for k in $(seq 1 "$replicas"); do
    servers+="    server 127.0.0.1:$((first_app_port + k - 1)) max_fails=1 fail_timeout=5s;"$'\n'
  done
  cat > "$DIR/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $DIR/run/nginx.pid;
error_log $DIR/log/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log $DIR/log/nginx-access.log;
  client_body_temp_path $DIR/nginx/tmp/body;
  proxy_temp_path $DIR/nginx/tmp/proxy;
  fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
  uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
  scgi_temp_path $DIR/nginx/tmp/scgi;
  client_max_body_size 200m;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  # sticky sessions: a browser's first request gets a random route cookie, and the route picks
  # its replica for every later request (the app's WebSocket); a replica that is down is skipped
  map \$cookie_gridmap_route \$gridmap_route { "" \$request_id; default \$cookie_gridmap_route; }
  map \$cookie_gridmap_route \$gridmap_route_cookie {
    "" "gridmap_route=\$request_id; Path=/; Secure; HttpOnly; SameSite=Lax";
    default "";
  }
  upstream gridmap {
    hash \$gridmap_route consistent;
$servers  }
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $DIR/tls/cert.pem;
    ssl_certificate_key $DIR/tls/key.pem;
    location / {
      proxy_pass http://gridmap;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout http_502 http_503;
      add_header X-Gridmap-Replica \$upstream_addr always;
      add_header Set-Cookie \$gridmap_route_cookie always;
    }
  }
}
EOF
}

start_nginx() {
  write_nginx_conf
  if [ -f "$DIR/run/nginx.pid" ] && kill -0 "$(cat "$DIR/run/nginx.pid")" 2>/dev/null; then
    nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -s reload
  else
    nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf"
  fi
}

case "$action" in
  start)
    [ "${GRIDMAP_CLUSTER_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh --test >/dev/null
    start_postgres
    for k in $(seq 1 "$replicas"); do start_replica "$k"; done
    printf 'replicas=%s\nport=%s\n' "$replicas" "$port" > "$DIR/cluster.env"
    start_nginx
    echo "https://127.0.0.1:$port  ($replicas replicas, PostGIS in $DIR/pg)"
    ;;
  stop-replica) stop_replica "$1" ;;
  start-replica) start_replica "$1" ;;
  status)
    for k in $(seq 1 "$replicas"); do
      if [ -f "$DIR/run/replica$k.pid" ] && running "$(cat "$DIR/run/replica$k.pid")"; then
        echo "replica $k: up (port $((first_app_port + k - 1)))"
      else
        echo "replica $k: down"
      fi
    done
    ;;
  stop)
    for k in $(seq 1 "$replicas"); do stop_replica "$k"; done
    if [ -f "$DIR/run/nginx.pid" ]; then
      nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -s quit 2>/dev/null || true
    fi
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop|status|stop-replica K|start-replica K" >&2; exit 2 ;;
esac
