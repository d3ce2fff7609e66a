#!/usr/bin/env bash
# Restarts a connector; with --tasks its tasks too, with --failed only what FAILED.
# usage: restart.sh NAME [--tasks] [--failed]   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
name=$1
shift
include=false only=false
for a in "$@"; do
  case $a in --tasks) include=true ;; --failed) only=true ;; *) echo "unknown option $a" >&2; exit 2 ;; esac
done
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X POST \
  "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$name/restart?includeTasks=$include&onlyFailed=$only"
echo "restart requested for $name"
