#!/usr/bin/env bash
# Creates or replaces a connector's whole config from a JSON file (a flat {"key": "value"} map).
# usage: update.sh NAME CONFIG.json   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X PUT -H 'Content-Type: application/json' \
  "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1/config" --data-binary "@$2"
echo
