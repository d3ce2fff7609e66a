#!/usr/bin/env bash
# Creates a Kafka -> Redis sink connector.
# usage: create-sink.sh NAME REDIS_URI TOPICS [REDIS_TYPE] [KEYSPACE]   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
name=$1 uri=$2 topics=$3 type=${4:-HASH} keyspace=${5:-'${topic}'}
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X POST -H 'Content-Type: application/json' "${FERRY_URL:-http://127.0.0.1:8083}/connectors" -d '{
  "name": "'"$name"'",
  "config": {
    "connector.class": "com.redis.kafka.connect.RedisSinkConnector",
    "redis.uri": "'"$uri"'",
    "topics": "'"$topics"'",
    "redis.type": "'"$type"'",
    "redis.keyspace": "'"$keyspace"'"
  }
}'
echo
