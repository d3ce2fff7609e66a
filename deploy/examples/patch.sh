#!/usr/bin/env bash
# Changes one key of a connector's config, or removes it when VALUE is omitted.
# usage: patch.sh NAME KEY [VALUE]   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
if [[ $# -ge 3 ]]; then value="\"$3\""; else value=null; fi
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X PATCH -H 'Content-Type: application/json' \
  "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1/config" -d "{\"$2\": $value}"
echo
