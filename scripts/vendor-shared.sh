#!/usr/bin/env bash
# Copies what the tests use from the team's shared folder (default ../shared) into
# tests/fixtures/shared/ (see tests/fixtures/shared/SOURCE.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${1:-$root/../shared}"
target="$root/tests/fixtures/shared"
for file in eval/questions-dev.yaml eval/questions-dev2.yaml eval/conversations-dev.yaml \
            eval/run_conversations.py schemas/slack-app-manifest.schema.json \
            schemas/teams-manifest-v1.17.schema.json; do
  install -D -m "$([ "${file##*.}" = py ] && echo 755 || echo 644)" "$shared/$file" "$target/$file"
done
echo "copied into $target; update the date in SOURCE.md" >&2
