# shellcheck shell=bash
# Shared settings for the project's scripts. Sourced, never executed.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT

# Everything built or downloaded for tests lives outside the repository, so that a fresh clone on the
# same machine reuses it (Go/cargo caches, built binaries, the venv, generated test content).
P2P_DRAGONFLY_CACHE=${P2P_DRAGONFLY_CACHE:-/var/cache/p2p-dragonfly}
export P2P_DRAGONFLY_CACHE

# Pinned tool versions (see README "Why these versions").
COMPOSE_VERSION=v2.40.3
export COMPOSE_VERSION

log() { printf '\033[1m[%s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# Run a long command with its output in a log file, printing a heartbeat so CI shows progress.
run_logged() {
    local name=$1; shift
    local logfile="$P2P_DRAGONFLY_CACHE/logs/$name.log"
    mkdir -p "$(dirname "$logfile")"
    local start=$SECONDS
    log "$name: started (log: $logfile)"
    "$@" >"$logfile" 2>&1 &
    local pid=$!
    local next=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if [ $SECONDS -ge $next ] && kill -0 "$pid" 2>/dev/null; then
            log "$name: still running ($((SECONDS - start)) s): $(tail -n 1 "$logfile" | cut -c1-120)"
            next=$((SECONDS + 30))
        fi
    done
    if ! wait "$pid"; then
        tail -n 40 "$logfile" >&2
        die "$name failed after $((SECONDS - start)) s (full log: $logfile)"
    fi
    log "$name: done in $((SECONDS - start)) s"
}

# The release set the roles deploy by default (roles/_common/defaults/main.yml): what the suite and the main
# job build and run unless P2P_DRAGONFLY_RELEASE_SETS names others.
default_release_set() {
    sed -n 's/^dragonfly_release_set: "\(.*\)"$/\1/p' "$REPO_ROOT/roles/_common/defaults/main.yml"
}

# One value of the lab definition (tests/lib/lab.yml; tests/lib/p2p_lab/lab.py says which names): its network,
# test origin and paths, and the stacks of the tests, the benchmarks and the main job. Needs the venv (PyYAML).
lab_value() {  # name
    PYTHONPATH="$REPO_ROOT/tests/lib" "$REPO_ROOT/.venv/bin/python" -m p2p_lab.lab "$1"
}

go_env() {
    export GOMODCACHE="$P2P_DRAGONFLY_CACHE/go/mod"
    export GOCACHE="$P2P_DRAGONFLY_CACHE/go/build"
    export CGO_ENABLED=0
    export PATH="/usr/local/go/bin:$HOME/.cargo/bin:$PATH"
}

# What belongs to this checkout alone, below the shared cache: one directory per checkout path, so that two
# checkouts on one machine (or a later clone in the same place) never read each other's files.
CHECKOUT_STATE="$P2P_DRAGONFLY_CACHE/checkouts/$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
export CHECKOUT_STATE
# The collections tree through which Ansible finds this checkout as p2p.dragonfly.
P2P_DRAGONFLY_COLLECTIONS="$CHECKOUT_STATE/collections"
export P2P_DRAGONFLY_COLLECTIONS

venv_activate() {
    # shellcheck disable=SC1091
    . "$REPO_ROOT/.venv/bin/activate"
    # community.docker comes with the `ansible` package inside the venv; the collection under test is found
    # through this checkout's own collections tree, linked before any gate runs (lint needs it as much as
    # the gates that run playbooks).
    link_collection
    export ANSIBLE_COLLECTIONS_PATH="$P2P_DRAGONFLY_COLLECTIONS:$VIRTUAL_ENV/lib/python3.11/site-packages"
}

# Ansible finds the collection under test through a link from this checkout's collections tree to it.
link_collection() {
    local root="$P2P_DRAGONFLY_COLLECTIONS/ansible_collections/p2p"
    mkdir -p "$root"
    ln -sfn "$REPO_ROOT" "$root/dragonfly"
}

# ansible-test resolves symlinks and insists on a real .../ansible_collections/<ns>/<name> path:
# give it a copy of the checkout (what git tracks plus new files, without build outputs).
copy_collection_for_ansible_test() {
    # One copy per checkout, so that two checkouts testing at once do not write into each other's copy.
    local dest="$CHECKOUT_STATE/ansible-test/ansible_collections/p2p/dragonfly"
    mkdir -p "$dest"
    rsync -a --delete --exclude .venv --exclude .git --exclude '__pycache__' --exclude '*.tar.gz' \
        --exclude tests/output "$REPO_ROOT/" "$dest/"
    printf '%s\n' "$dest"
}
