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
# Java 17 and Maven run the real Apache Ozone cluster of tests/cluster.
for cmd in java mvn; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        s3fs rclone s3cmd fuse3 curl chromium chromium-driver systemd docker-compose \
        $(command -v node >/dev/null || echo nodejs npm) \
        $(command -v java >/dev/null || echo openjdk-17-jdk-headless) \
        $(command -v mvn >/dev/null || echo maven)
fi

pip install -q '.[test]'
(cd tests/js && npm install --no-audit --no-fund --loglevel=error)
# Everything started below is stopped on the way out, whatever happened.
cluster_dir=""
starter=""
cluster_tests=""
cluster_log=""
clean_up() {
    # pytest tears its fixtures (gateway processes) down on SIGINT.
    if [ -n "$cluster_tests" ]; then
        kill -INT "$cluster_tests" 2>/dev/null || true
        wait "$cluster_tests" 2>/dev/null || true
    fi
    [ -z "$cluster_log" ] || rm -f "$cluster_log"
    if [ -n "$cluster_dir" ]; then
        # A start still under way is let finish, so that stop finds every
        # daemon it started.
        [ -z "$starter" ] || wait "$starter" 2>/dev/null || true
        [ ! -f "$cluster_dir/start.log" ] || sed 's/^/  /' "$cluster_dir/start.log" >&2
        compose/ozone-local/cluster stop "$cluster_dir" >/dev/null 2>&1 || true
        rm -rf "$cluster_dir"
    fi
}
trap clean_up EXIT

# A real Apache Ozone cluster (SCM, OM, three datanodes so keys are RATIS/THREE,
# Ozone's S3 gateway: JVMs from Maven Central artifacts) for tests/cluster,
# unless one is named already.  It starts in the background (resolving the
# jars on a fresh machine, then ~2 minutes of JVM start-up); the cluster's
# tests wait for it (tests/cluster/conftest.py), and its status lands in
# $cluster_dir/started.
if [ -z "${OZS3_CLUSTER_INFO:-}" ]; then
    cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/ozs3-test-cluster.XXXXXX")
    (
        status=0
        compose/ozone-local/cluster start "$cluster_dir" --datanodes 3 \
            >"$cluster_dir/info.part" 2>"$cluster_dir/start.log" || status=$?
        if [ "$status" = 0 ]; then mv "$cluster_dir/info.part" "$cluster_dir/info"; fi
        echo "$status" >"$cluster_dir/started.part"
        mv "$cluster_dir/started.part" "$cluster_dir/started"
    ) &
    starter=$!
    export OZS3_CLUSTER_INFO="$cluster_dir/info"
    export OZS3_CLUSTER_STARTED="$cluster_dir/started"
fi

# Two pytest processes side by side: the tests that need no cluster, and the
# cluster's.  Much of the cluster tests' time is waiting (the cluster's start,
# Raft elections, daemons paused on purpose); the rest competes with the other
# part for the cores, so the pair takes longer than either part alone but
# less than the two one after the other.  Each part picks its gateways' ports
# from its own half of the range (tests/support/gateway.py); the cluster
# part's output follows the other's.  A part that selects no test (pytest's
# status 5, as in `tests/run.sh tests/unit`) is no failure unless both select
# none.
cluster_log=$(mktemp "${TMPDIR:-/tmp}/ozs3-cluster-tests.XXXXXX")
OZS3_TEST_PORT_SHARE=1/2 python -m pytest -q --part cluster "$@" >"$cluster_log" 2>&1 &
cluster_tests=$!
local_status=0
OZS3_TEST_PORT_SHARE=0/2 python -m pytest -q --part local "$@" || local_status=$?
cluster_status=0
wait "$cluster_tests" || cluster_status=$?
cluster_tests=""
echo "--- the tests of the Ozone cluster, run alongside ---"
cat "$cluster_log"
if [ "$local_status" = 5 ] && [ "$cluster_status" = 5 ]; then exit 5; fi
[ "$local_status" != 5 ] || local_status=0
[ "$cluster_status" != 5 ] || cluster_status=0
[ "$local_status" = 0 ] && [ "$cluster_status" = 0 ]
