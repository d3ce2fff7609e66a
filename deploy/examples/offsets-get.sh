#!/usr/bin/env bash
# Shows a connector's offsets (source: per stream; sink: per Kafka partition).
# usage: offsets-get.sh NAME   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1/offsets"
echo
