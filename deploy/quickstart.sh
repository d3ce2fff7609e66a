#!/usr/bin/env bash
# One command to see ferry work: installs, builds (Release), starts redis-server and a
# `ferry-worker dev` (with its embedded Kafka broker, REST on http://127.0.0.1:8083), creates a
# demo source (Redis stream `orders` -> Kafka topic `orders`) and a demo sink (topic `orders` ->
# Redis hashes `order:<id>`), adds stream entries and shows them arriving in Kafka and in Redis.
#   deploy/quickstart.sh          start (stops a previous quickstart first)
#   deploy/quickstart.sh stop     stop what the quickstart started
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.quickstart"
rest="http://127.0.0.1:8083"

stop_all() {
  for name in worker redis; do
    if [[ -f "$state/$name.pid" ]]; then
      pid=$(cat "$state/$name.pid")
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      rm -f "$state/$name.pid"
    fi
  done
}

if [[ "${1:-}" == "stop" ]]; then
  stop_all
  echo "quickstart: stopped."
  exit 0
fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2
  shift 2
  for _ in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "quickstart: timed out waiting for $what" >&2
  return 1
}

step "Installing dependencies (Debian packages)"
deploy/install-deps.sh

step "Building ferry (Release)"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF >/dev/null
ninja -C build-release ferry-worker ferry-kafka-dev

stop_all
rm -rf "$state"
mkdir -p "$state/redis"

step "Starting redis-server"
redis_port=6379
if redis-cli -p 6379 ping >/dev/null 2>&1 || (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  redis_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "port 6379 is taken; using our own redis-server on port $redis_port"
fi
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$state/redis" --save '' \
  --appendonly no --daemonize yes --pidfile "$state/redis.pid" --logfile "$state/redis.log"
wait_for 10 "redis-server" redis-cli -p "$redis_port" ping
echo "redis-server on 127.0.0.1:$redis_port (data dir $state/redis)"

step "Starting ferry-worker dev (embedded Kafka broker, REST on $rest)"
if curl -s -o /dev/null "$rest/"; then
  echo "quickstart: something already answers on $rest; stop it first" >&2
  exit 1
fi
cat > "$state/worker.properties" <<PROPS
listeners=$rest
offset.storage.file.filename=$state/connect.offsets
offset.flush.interval.ms=1000
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=false
PROPS
nohup build-release/ferry-worker dev "$state/worker.properties" >"$state/worker.out" \
  2>"$state/worker.log" </dev/null &
echo $! >"$state/worker.pid"
wait_for 30 "the worker's REST API" curl -sf "$rest/"
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$state/worker.out")
echo "worker up; embedded Kafka at $bootstrap; log in $state/worker.log"

step "Creating the demo connectors with curl"
curl -sf -X PUT -H 'Content-Type: application/json' "$rest/connectors/orders-source/config" -d '{
  "connector.class": "com.redis.kafka.connect.RedisStreamSourceConnector",
  "redis.uri": "redis://127.0.0.1:'"$redis_port"'",
  "redis.stream.name": "orders",
  "topic": "orders"
}'
echo
curl -sf -X PUT -H 'Content-Type: application/json' "$rest/connectors/orders-sink/config" -d '{
  "connector.class": "com.redis.kafka.connect.RedisSinkConnector",
  "redis.uri": "redis://127.0.0.1:'"$redis_port"'",
  "topics": "orders",
  "redis.type": "HASH",
  "redis.keyspace": "order"
}'
echo

step "Adding three orders to the Redis stream 'orders'"
ids=()
for n in 1 2 3; do
  ids+=("$(redis-cli -p "$redis_port" XADD orders '*' sku "SKU-$n" qty "$n" price "$((n * 10)).00")")
done
printf '  XADD orders -> %s\n' "${ids[@]}"

step "They reached Kafka (kcat -b $bootstrap -t orders)"
last=${ids[2]}
wait_for 30 "the orders in Kafka" bash -c \
  "kcat -b '$bootstrap' -C -t orders -e -q -f '%k\n' | grep -qx '$last'"
kcat -b "$bootstrap" -C -t orders -e -q -f '  key=%k value=%s\n'

step "...and came back into Redis as hashes (redis-cli HGETALL order:<id>)"
wait_for 30 "the hashes in Redis" bash -c \
  "[[ \$(redis-cli -p $redis_port EXISTS order:$last) == 1 ]]"
for id in "${ids[@]}"; do
  echo "  order:$id -> $(redis-cli -p "$redis_port" HGETALL "order:$id" | paste -sd' ')"
done

step "Both connectors are RUNNING (curl -s '$rest/connectors?expand=status')"
wait_for 30 "RUNNING connectors" bash -c \
  "[[ \$(curl -s '$rest/connectors?expand=status' | grep -o '\"state\":\"RUNNING\"' | wc -l) -ge 4 ]]"
curl -s "$rest/connectors?expand=status"
echo

cat <<DONE

ferry is running:
  REST API      $rest            (try: curl -s $rest/connectors?expand=status)
  Kafka         $bootstrap   (embedded dev broker, memory only)
  Redis         127.0.0.1:$redis_port
  logs          $state/worker.log
Add more orders with:  redis-cli -p $redis_port XADD orders '*' sku X qty 1
Stop everything with:  deploy/quickstart.sh stop
DONE
