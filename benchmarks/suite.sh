#!/usr/bin/env bash
# Benchmark (not a test): the whole suite (.ci/run) from a fresh clone of this checkout's HEAD, warm or cold.
#   benchmarks/suite.sh warm          with the caches and images of this machine (what a second CI run sees)
#   benchmarks/suite.sh cold --yes    as on a fresh machine: an empty P2P_DRAGONFLY_CACHE of its own, none of the
#                                     built images in the engine, no compose plugin, no cargo registry cache,
#                                     no ansible-test venvs. Removes those from this machine (the images and the
#                                     plugin are built again by the run; the rest is moved aside, not deleted).
# Debian packages stay installed (a fresh machine installs them in ~25 s) and the Docker engine keeps running.
# Prints the run's own gate table and keeps the whole output in the clone's directory.
# Targets (issue 12): cold at most 60 min, warm at most 20 min, on 2 cores.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"

mode=${1:-}
case "$mode" in
    warm) ;;
    cold) [ "${2:-}" = --yes ] || die "cold removes the built images and caches of this machine: add --yes" ;;
    *) die "usage: benchmarks/suite.sh warm | cold --yes" ;;
esac

work=$(mktemp -d /var/tmp/p2p-suite-$mode-XXXXXX)
git clone --quiet "$REPO_ROOT" "$work/clone"
log "fresh clone of $(git -C "$REPO_ROOT" rev-parse --short HEAD) in $work/clone"

env_cache=()
if [ "$mode" = cold ]; then
    aside="$work/aside"
    mkdir -p "$aside"
    log "cold: removing the built images, the compose plugin; moving the cargo registry and ansible-test venvs aside"
    docker ps -aq | xargs -r docker rm -f >/dev/null
    docker images --format '{{.Repository}}:{{.Tag}}' |
        grep -E '^(dragonflyoss/|localhost/p2p-dragonfly/)' | xargs -r docker image rm -f >/dev/null
    docker builder prune -af >/dev/null 2>&1 || true
    rm -f /usr/local/lib/docker/cli-plugins/docker-compose
    [ ! -d "$HOME/.cargo/registry" ] || mv "$HOME/.cargo/registry" "$aside/cargo-registry"
    [ ! -d "$HOME/.ansible" ] || mv "$HOME/.ansible" "$aside/ansible"
    env_cache=(P2P_DRAGONFLY_CACHE="$work/cache")
    log "cold: P2P_DRAGONFLY_CACHE=$work/cache (empty); what was moved aside is in $aside"
fi

started=$SECONDS
set +e
(cd "$work/clone" && env "${env_cache[@]}" CI=true bash .ci/run </dev/null) >"$work/run.log" 2>&1
status=$?
set -e
log "suite ($mode) exited $status after $((SECONDS - started)) s; output: $work/run.log"
sed -n '/^gate  *result/,$p' "$work/run.log"
exit $status
