#!/usr/bin/env bash
# Deletes a connector (its offsets stay, as in Kafka Connect).
# usage: delete.sh NAME   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X DELETE "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1"
echo "deleted $1"
