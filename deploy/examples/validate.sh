#!/usr/bin/env bash
# Validates a config against a connector class without creating anything; prints every error.
# usage: validate.sh CLASS CONFIG.json   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X PUT -H 'Content-Type: application/json' \
  "${FERRY_URL:-http://127.0.0.1:8083}/connector-plugins/$1/config/validate" --data-binary "@$2"
echo
