#!/usr/bin/env bash
# Lists the connector classes (--all: converters too), or one class's config keys.
# usage: plugins.sh [--all | CLASS]   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
url=${FERRY_URL:-http://127.0.0.1:8083}
case ${1:-} in
  "") curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} "$url/connector-plugins" ;;
  --all) curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} "$url/connector-plugins?connectorsOnly=false" ;;
  *) curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} "$url/connector-plugins/$1/config" ;;
esac
echo
