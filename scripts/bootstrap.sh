#!/usr/bin/env bash
# Take a fresh machine of this kind to a working development/test environment, idempotently, as root:
#   - Debian packages: Docker engine (docker.io), debootstrap, the build dependencies of the
#     Dragonfly client (protobuf, libclang), rsync, containerd (its own binary and ctr: the runtime gate
#     and the pull tests start a private instance; docker.io depends on it too, named here on purpose), podman
#     (the pull tests' CRI-O/Podman path, with its own storage);
#   - a running Docker engine (started in the background when none answers; CI has no service manager);
#   - the docker compose v2 CLI plugin, built from its Go module at a pinned version;
#   - a Python virtualenv with the pinned controller tools (tests/requirements.txt + tests/constraints.txt);
#   - ansible-test's pip bootstrap stand-in (its download host is unreachable here).
# A second run only checks and prints what is already in place.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root: the bootstrap installs Debian packages and starts dockerd"
mkdir -p "$P2P_DRAGONFLY_CACHE"/{logs,bin}

APT_PACKAGES=(docker.io containerd podman debootstrap rsync git curl ca-certificates iproute2 build-essential pkg-config perl
    protobuf-compiler libprotobuf-dev libclang-dev)

install_debian_packages() {
    local missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "Debian packages: all present"
        return
    fi
    log "Debian packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    run_logged apt-update apt-get update
    # docker.io's postinst tries to start the service; there is no init system here, which is fine.
    run_logged apt-install apt-get install -y --no-install-recommends "${missing[@]}"
}

start_docker_engine() {
    if docker info >/dev/null 2>&1; then
        log "Docker engine: answering ($(docker info --format '{{.ServerVersion}}'))"
        return
    fi
    command -v dockerd >/dev/null || die "dockerd not found although docker.io is installed"
    # The default route's MTU is below Docker's default 1500: match it, or large downloads inside
    # containers (apt-get during image builds) stall.
    local dev mtu
    dev=$(ip route show default | awk '{for (i=1;i<NF;i++) if ($i=="dev") print $(i+1); exit}')
    mtu=$(cat "/sys/class/net/${dev:-lo}/mtu" 2>/dev/null || echo 1500)
    [ "$mtu" -gt 1500 ] && mtu=1500
    log "Docker engine: starting dockerd in the background (mtu $mtu, log $P2P_DRAGONFLY_CACHE/logs/dockerd.log)"
    # setsid: the engine must outlive this script and the test command that called it.
    setsid nohup dockerd --mtu "$mtu" >"$P2P_DRAGONFLY_CACHE/logs/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && { log "Docker engine: up"; return; }
        sleep 1
    done
    tail -n 30 "$P2P_DRAGONFLY_CACHE/logs/dockerd.log" >&2
    die "Docker engine did not answer within 60 s"
}

# Debian 12 ships only compose v1; community.docker.docker_compose_v2 needs the v2 plugin (>= 2.18).
# We build it from the Go module (the Go module proxy is reachable, GitHub release binaries are not).
# `go install` refuses this module (its go.mod has `exclude` directives), so it is built as the main module.
install_compose_plugin() {
    local plugin_dir=/usr/local/lib/docker/cli-plugins
    local cached="$P2P_DRAGONFLY_CACHE/bin/docker-compose-$COMPOSE_VERSION"
    if docker compose version 2>/dev/null | grep -q "$COMPOSE_VERSION"; then
        log "docker compose plugin: $COMPOSE_VERSION present"
        return
    fi
    if [ ! -x "$cached" ]; then
        go_env
        local src
        src=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
        local work="$P2P_DRAGONFLY_CACHE/src/compose-$COMPOSE_VERSION"
        rm -rf "$work" && mkdir -p "$work" && cp -r "$src/." "$work/" && chmod -R u+w "$work"
        run_logged "build-compose-$COMPOSE_VERSION" bash -c "cd '$work' && go build -trimpath \
            -ldflags '-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION' -o '$cached.tmp' ./cmd"
        mv "$cached.tmp" "$cached"
    fi
    mkdir -p "$plugin_dir"
    install -m 0755 "$cached" "$plugin_dir/docker-compose"
    docker compose version | grep -q "$COMPOSE_VERSION" || die "docker compose does not report $COMPOSE_VERSION"
    log "docker compose plugin: $(docker compose version)"
}

# The venv lives in the cache, keyed by the requirement files, and .venv links to it: a fresh clone
# on the same machine then needs no pip install at all.
create_venv() {
    local key venv
    key=$(cat "$REPO_ROOT/tests/requirements.txt" "$REPO_ROOT/tests/constraints.txt" | sha256sum | cut -c1-16)
    venv="$P2P_DRAGONFLY_CACHE/venv/$key"
    if [ ! -x "$venv/bin/ansible-playbook" ] || [ ! -f "$venv/.complete" ]; then
        log "venv: creating $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        run_logged pip-install "$venv/bin/pip" install --disable-pip-version-check \
            -r "$REPO_ROOT/tests/requirements.txt" -c "$REPO_ROOT/tests/constraints.txt"
        touch "$venv/.complete"
    else
        log "venv: $venv present"
    fi
    ln -sfn "$venv" "$REPO_ROOT/.venv"
}

install_ansible_test_pip_standin() {
    local pip_version
    pip_version=$("$REPO_ROOT/.venv/bin/python" - <<'EOF'
import pathlib, re, ansible_test
text = (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", text).group(1))
EOF
)
    local dest="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    mkdir -p "$(dirname "$dest")"
    install -m 0644 "$REPO_ROOT/scripts/get_pip_standin.py" "$dest"
    log "ansible-test pip bootstrap stand-in: $dest"
}

check_toolchains() {
    go_env
    local gov
    gov=$(go env GOVERSION 2>/dev/null) || die "Go toolchain not found (expected at /usr/local/go)"
    log "Go: $gov; Rust: $(rustc --version 2>/dev/null || echo missing)"
}

# scripts/test.sh runs the compose plugin build (only its stack gates need it) beside the image build:
#   bootstrap.sh --without compose      everything else
#   bootstrap.sh --only compose         the plugin alone (after the rest)
case "${1:-}" in
    --only)
        [ "${2:-}" = compose ] || die "usage: bootstrap.sh [--without compose | --only compose]"
        check_toolchains
        install_compose_plugin
        ;;
    --without | "")
        [ -z "${1:-}" ] || [ "${2:-}" = compose ] || die "usage: bootstrap.sh [--without compose | --only compose]"
        install_debian_packages
        start_docker_engine
        check_toolchains
        [ -n "${1:-}" ] || install_compose_plugin
        create_venv
        install_ansible_test_pip_standin
        ;;
    *) die "usage: bootstrap.sh [--without compose | --only compose]" ;;
esac
log "bootstrap complete"
