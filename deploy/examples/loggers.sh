#!/usr/bin/env bash
# Shows the log levels, or sets one logger's level at runtime ("root": every logger without its own).
# usage: loggers.sh [NAME LEVEL]   LEVEL: TRACE DEBUG INFO WARN ERROR   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
url=${FERRY_URL:-http://127.0.0.1:8083}
if [[ $# -ge 2 ]]; then
  curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X PUT -H 'Content-Type: application/json' \
    "$url/admin/loggers/$1" -d "{\"level\": \"$2\"}"
else
  curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} "$url/admin/loggers"
fi
echo
