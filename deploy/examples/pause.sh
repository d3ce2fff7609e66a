#!/usr/bin/env bash
# Pauses a connector and its tasks.
# usage: pause.sh NAME   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X PUT "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1/pause"
echo "pause requested for $1"
