#!/usr/bin/env bash
# Shows every connector with its status, or one connector's status.
# usage: status.sh [NAME]   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
url=${FERRY_URL:-http://127.0.0.1:8083}
if [[ $# -ge 1 ]]; then
  curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} "$url/connectors/$1/status"
else
  curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} "$url/connectors?expand=status&expand=info"
fi
echo
