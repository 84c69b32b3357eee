#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine, then run it.
# The README's test command; .ci/run runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real clients the suite drives: Debian's s3fs-fuse, rclone, s3cmd; curl;
# chromium for the bucket browser; systemd-analyze and docker-compose to
# check the service files; Node.js for the AWS SDK for JavaScript.
missing=()
for cmd in s3fs rclone s3cmd fusermount3 curl chromium chromedriver systemd-analyze \
           docker-compose; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        s3fs rclone s3cmd fuse3 curl chromium chromium-driver systemd docker-compose \
        $(command -v node >/dev/null || echo nodejs npm)
fi

pip install -q '.[test]'
(cd tests/js && npm install --no-audit --no-fund --loglevel=error)
python -m pytest -q "$@"
