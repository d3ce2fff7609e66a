#!/usr/bin/env bash
# Forgets a connector's offsets, so it starts from the beginning; it must be STOPPED.
# usage: offsets-reset.sh NAME   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X DELETE "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1/offsets"
echo
