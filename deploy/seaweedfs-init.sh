#!/bin/sh
# Creates the studio's bucket in SeaweedFS: the one-shot `storage-init` service of
# docker-compose.yml runs it on every `docker compose up`, after the store is healthy, and it
# changes nothing when the bucket is already there. (The access key needs no step: the store
# reads it from its environment at every start.) scripts/check-deploy runs it against a local
# SeaweedFS of the same version, twice.
set -eu

: "${S3_BUCKET:?set S3_BUCKET}" "${WEED_MASTER:?set WEED_MASTER (host:port)}" "${WEED_FILER:?set WEED_FILER (host:port)}"

# `weed shell` reads commands from stdin and exits 0 even when one fails, so every outcome is
# read back from the bucket list rather than from its exit code.
weed_shell() {
  echo "$1" | weed shell -master="$WEED_MASTER" -filer="$WEED_FILER"
}

has_bucket() {
  weed_shell "s3.bucket.list" | awk '{ print $1 }' | grep -qxF "$S3_BUCKET"
}

if has_bucket; then
  echo "storage-init: bucket $S3_BUCKET is already there"
  exit 0
fi
weed_shell "s3.bucket.create -name $S3_BUCKET"
if ! has_bucket; then
  echo "storage-init: could not create bucket $S3_BUCKET (see the output above)" >&2
  exit 1
fi
echo "storage-init: created bucket $S3_BUCKET"
