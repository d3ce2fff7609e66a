#!/usr/bin/env bash
# Creates a Redis stream -> Kafka source connector.
# usage: create-source.sh NAME REDIS_URI STREAM[,STREAM...] [TOPIC]   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
name=$1 uri=$2 streams=$3 topic=${4:-'${stream}'}
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X POST -H 'Content-Type: application/json' "${FERRY_URL:-http://127.0.0.1:8083}/connectors" -d '{
  "name": "'"$name"'",
  "config": {
    "connector.class": "com.redis.kafka.connect.RedisStreamSourceConnector",
    "redis.uri": "'"$uri"'",
    "redis.stream.name": "'"$streams"'",
    "topic": "'"$topic"'"
  }
}'
echo
