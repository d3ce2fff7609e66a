#!/usr/bin/env bash
# Resumes a connector and its tasks.
# usage: resume.sh NAME   (FERRY_URL, default http://127.0.0.1:8083; FERRY_CURL_OPTS, more curl options)
set -euo pipefail
curl -sS --fail-with-body ${FERRY_CURL_OPTS:-} -X PUT "${FERRY_URL:-http://127.0.0.1:8083}/connectors/$1/resume"
echo "resume requested for $1"
