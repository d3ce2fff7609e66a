#!/usr/bin/env bash
# Sets a connector's offsets; the connector must be STOPPED (stop.sh).
# usage: offsets-alter.sh NAME '{"offsets":[{"partition":{...},"offset":{...}}]}'
#   source: '{"offsets":[{"partition":{"stream":"orders"},"offset":{"offset":"1700000000000-0"}}]}'
#   sink:   '{"offsets":[{"partition":{"kafka_topic":"orders","kafka_partition":0},"offset":{"kafka_offset":42}}]}'
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X PATCH -H 'Content-Type: application/json' \
  "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1/offsets" -d "$2"
echo
