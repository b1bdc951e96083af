#!/usr/bin/env bash
# Build the real Dragonfly images from the pinned upstream releases, and the test fixtures, locally.
#
#   tests/images/build.sh [RELEASE_SET...]     default: every set in roles/_common/vars/main.yml
#   tests/images/build.sh --fixtures-only      only the test fixtures (registry, token service, file server, MariaDB,
#                                              Redis, nginx, a forward proxy, and the crictl binary)
#
# No container registry is reachable here, so:
#   - the base is a Debian bookworm rootfs made with debootstrap and `docker import`ed;
#   - manager/scheduler come from the Go module d7y.io/dragonfly/v2 at the set's tag, with the
#     version ldflags upstream's hack/build.sh sets (GitVersion too: it is hard-coded v2.5.0 at v2.5.1);
#   - the client comes from the crate dragonfly-client at the set's version (dfdaemon, dfget, dfctl);
#   - grpc_health_probe from the Go module github.com/grpc-ecosystem/grpc-health-probe.
# Images are tagged exactly as upstream tags them (dragonflyoss/<name>:<tag>) so that the roles'
# defaults run unchanged. Fixtures are tagged localhost/p2p-dragonfly/<name>:<version>.
# Every image carries a label with the hash of its inputs; an image whose label matches is not rebuilt,
# and built binaries are cached under $P2P_DRAGONFLY_CACHE, so a second run builds nothing.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
go_env

HERE="$REPO_ROOT/tests/images"
BIN="$P2P_DRAGONFLY_CACHE/bin"
# grpc-health-probe: upstream images use v0.4.48, which the Go module proxy does not serve (403);
# v0.4.57 is the oldest version it serves, so the nearest one to upstream's.
HEALTH_PROBE_VERSION=v0.4.57
REGISTRY_VERSION=v3.1.1
# The token service of the bearer-token test registry: distribution's contrib/token-server, at the version its
# fixture's go.mod pins (with every dependency, go.sum beside it).
TOKEN_SERVER_VERSION=v2.8.3
# crictl (CRI client) for the pull tests: drives a private containerd's CRI plugin, which reads config_path.
CRICTL_VERSION=$(lab_value crictl_version)  # tests/lib/lab.yml, where the pull tests look for it
BASE_IMAGE=localhost/p2p-dragonfly/debian:bookworm
INPUT_LABEL=org.p2p-dragonfly.inputs
FIXTURE_PREFIX=localhost/p2p-dragonfly
# Optimisation of the client build (Rust and its C/C++ crates). Level 1 for the test suite, with cargo's own
# release defaults for link-time optimisation and codegen units (no LTO, 16 units) instead of the crate's
# profile (fat LTO, one unit): on 2 cores the cold build of the crate dominates a fresh machine's test run, and
# the binaries pass the same tests. Level 3 is upstream's image: P2P_DRAGONFLY_CLIENT_OPT_LEVEL=3 builds with the
# crate's own profile (opt-level 3, fat LTO, one unit), for benchmarks that compare with upstream. The image
# records the level in the label below; each level has its own binaries.
CLIENT_OPT_LEVEL=${P2P_DRAGONFLY_CLIENT_OPT_LEVEL:-1}
case "$CLIENT_OPT_LEVEL" in 0|1|2|3) ;; *) die "P2P_DRAGONFLY_CLIENT_OPT_LEVEL must be 0, 1, 2 or 3" ;; esac
CLIENT_OPT_LABEL=org.p2p-dragonfly.client-opt-level
# What the level decides beside opt-level itself: the cargo profile settings and the binaries' directory suffix.
if [ "$CLIENT_OPT_LEVEL" = 3 ]; then
    CLIENT_PROFILE=() CLIENT_BUILD=O3
else
    CLIENT_PROFILE=(--config profile.release.lto=false --config profile.release.codegen-units=16)
    CLIENT_BUILD=O$CLIENT_OPT_LEVEL-nolto
fi

release_sets() {
    "$REPO_ROOT/.venv/bin/python" - "$@" <<'EOF'
import sys, yaml
sets = yaml.safe_load(open(sys.argv[1]))["_dragonfly_release_sets"]
for name in (sys.argv[2:] or sets):
    s = sets[name]
    print(name, s["manager"], s["scheduler"], s["client"])
EOF
}

image_inputs_match() {  # image, hash
    [ "$(docker image inspect -f "{{index .Config.Labels \"$INPUT_LABEL\"}}" "$1" 2>/dev/null)" = "$2" ]
}

# docker build from a throwaway context holding the Dockerfile's directory and the given files.
build_image() {  # tag dockerfile context_dir [file...]
    local tag=$1 dockerfile=$2 context_src=$3; shift 3
    local hash
    hash=$( (cat "$dockerfile"; find "$context_src" -maxdepth 1 -type f ! -name '*.Dockerfile' -print0 | sort -z | xargs -0 -r cat; \
        for f in "$@"; do sha256sum "$f"; done; docker image inspect -f '{{.Id}}' "$BASE_IMAGE") | sha256sum | cut -c1-16)
    if image_inputs_match "$tag" "$hash"; then
        log "image $tag: up to date"
        return
    fi
    local ctx
    ctx=$(mktemp -d)
    find "$context_src" -maxdepth 1 -type f ! -name '*.Dockerfile' -exec cp {} "$ctx/" \;
    for f in "$@"; do cp "$f" "$ctx/"; done
    local labels=(--label "$INPUT_LABEL=$hash")
    [ -z "${IMAGE_LABELS:-}" ] || labels+=(--label "$IMAGE_LABELS")
    run_logged "docker-build-${tag//[\/:]/_}" docker build --network host -f "$dockerfile" \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" "${labels[@]}" -t "$tag" "$ctx"
    rm -rf "$ctx"
}

build_base() {
    local rootfs_tar="$P2P_DRAGONFLY_CACHE/rootfs/debian-bookworm-minbase.tar"
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "image $BASE_IMAGE: present"
        return
    fi
    if [ ! -f "$rootfs_tar" ]; then
        local dir
        dir=$(mktemp -d)
        mkdir -p "$(dirname "$rootfs_tar")"
        run_logged debootstrap-bookworm debootstrap --variant=minbase \
            --include=ca-certificates,curl,procps bookworm "$dir" http://deb.debian.org/debian
        rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
        tar -C "$dir" -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
        rm -rf "$dir"
    fi
    docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["/bin/bash"]' "$rootfs_tar" "$BASE_IMAGE" >/dev/null
    log "image $BASE_IMAGE: imported"
}

module_info() {  # module@version -> prints "commit time"
    go mod download -json "$1" | "$REPO_ROOT/.venv/bin/python" -c \
        'import json,sys; d=json.load(open(json.load(sys.stdin)["Info"])); print(d["Origin"]["Hash"][:7], d["Time"])'
}

build_health_probe() {
    local out="$BIN/grpc-health-probe-$HEALTH_PROBE_VERSION"
    [ -x "$out/grpc-health-probe" ] && return
    run_logged "go-install-grpc-health-probe-$HEALTH_PROBE_VERSION" env GOBIN="$out" go install -trimpath \
        "github.com/grpc-ecosystem/grpc-health-probe@$HEALTH_PROBE_VERSION"
}

build_dragonfly_go() {  # version
    local version=$1 out="$BIN/dragonfly-$1"
    [ -x "$out/manager" ] && [ -x "$out/scheduler" ] && return
    local commit time pkg=d7y.io/dragonfly/v2
    read -r commit time < <(module_info "$pkg@$version")
    local major minor
    IFS=. read -r major minor _ <<<"${version#v}"
    # The flags of upstream's hack/build.sh, plus the version fields (GitVersion is stale in the source).
    local ldflags="-X $pkg/version.Major=$major -X $pkg/version.Minor=$minor -X $pkg/version.GitVersion=$version"
    ldflags+=" -X $pkg/version.GitCommit=$commit -X $pkg/version.BuildTime=$time -X $pkg/version.Gotags=none"
    ldflags+=" -X $pkg/version.GoVersion=$(go env GOVERSION) -X $pkg/version.Gogcflags=none"
    # Built as the main module from the downloaded source: `go install pkg@version` also asks the proxy
    # for the module's version list (deprecation check), which it refuses for this module here.
    local src work="$P2P_DRAGONFLY_CACHE/src/dragonfly-$version"
    src=$(go mod download -json "$pkg@$version" | "$REPO_ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    rm -rf "$work" && mkdir -p "$work" && cp -r "$src/." "$work/" && chmod -R u+w "$work"
    mkdir -p "$out"
    run_logged "go-build-dragonfly-$version" bash -c "cd '$work' && go build -trimpath -ldflags '$ldflags' \
        -o '$out/' ./cmd/manager ./cmd/scheduler"
}

client_dir() {  # version (vX.Y.Z) -> where its binaries are installed for the chosen optimisation
    printf '%s\n' "$BIN/client-${1#v}-$CLIENT_BUILD"
}

build_client() {  # version (vX.Y.Z)
    local version=${1#v} out
    out=$(client_dir "$1")
    [ -x "$out/bin/dfdaemon" ] && [ -x "$out/bin/dfget" ] && [ -x "$out/bin/dfctl" ] && return
    # One target dir for every version: the heavy C/C++ crates (RocksDB, OpenSSL, jemalloc) are shared.
    # tokio_unstable as upstream's .cargo/config.toml sets it (cargo install does not read that file).
    # The optimisation level also reaches the C/C++ crates (cc-rs reads cargo's OPT_LEVEL).
    run_logged "cargo-install-dragonfly-client-$version-O$CLIENT_OPT_LEVEL" env RUSTFLAGS="--cfg tokio_unstable" \
        CARGO_TARGET_DIR="$P2P_DRAGONFLY_CACHE/cargo-target" \
        cargo install dragonfly-client --version "$version" --locked --root "$out" \
        --config "profile.release.opt-level=$CLIENT_OPT_LEVEL" "${CLIENT_PROFILE[@]}" \
        --bin dfdaemon --bin dfget --bin dfctl
}

build_registry() {
    local out="$BIN/registry-$REGISTRY_VERSION"
    [ -x "$out/registry" ] && return
    run_logged "go-install-registry-$REGISTRY_VERSION" env GOBIN="$out" go install -trimpath \
        "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
}

build_token_server() {
    local out="$BIN/token-server-$TOKEN_SERVER_VERSION" src="$HERE/fixtures/token-server"
    [ -x "$out/token-server" ] && cmp -s "$out/go.sum" "$src/go.sum" && return
    mkdir -p "$out"
    run_logged "go-build-token-server-$TOKEN_SERVER_VERSION" env -C "$src" GOFLAGS=-mod=readonly go build -trimpath \
        -o "$out/token-server" github.com/docker/distribution/contrib/token-server
    cp "$src/go.sum" "$out/go.sum"
}

# Not an image: a host binary the e2e pull test and benchmarks/pull.sh run against a private containerd.
build_crictl() {
    local out="$BIN/crictl-$CRICTL_VERSION"
    [ -x "$out/crictl" ] && return
    run_logged "go-install-crictl-$CRICTL_VERSION" env GOBIN="$out" go install -trimpath \
        "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
}

build_fixtures() {
    build_registry
    build_token_server
    build_crictl
    build_image "$FIXTURE_PREFIX/mariadb:10.11" "$HERE/fixtures/mariadb/Dockerfile" "$HERE/fixtures/mariadb"
    build_image "$FIXTURE_PREFIX/redis:7.0" "$HERE/fixtures/redis/Dockerfile" "$HERE/fixtures/redis"
    build_image "$FIXTURE_PREFIX/registry:${REGISTRY_VERSION#v}" "$HERE/fixtures/registry/Dockerfile" \
        "$HERE/fixtures/registry" "$BIN/registry-$REGISTRY_VERSION/registry"
    build_image "$FIXTURE_PREFIX/token-server:${TOKEN_SERVER_VERSION#v}" "$HERE/fixtures/token-server/Dockerfile" \
        "$HERE/fixtures/token-server" "$BIN/token-server-$TOKEN_SERVER_VERSION/token-server"
    build_image "$FIXTURE_PREFIX/fileserver:1" "$HERE/fixtures/fileserver/Dockerfile" "$HERE/fixtures/fileserver"
    build_image "$FIXTURE_PREFIX/nginx:1.22" "$HERE/fixtures/proxy/Dockerfile" "$HERE/fixtures/proxy"
    build_image "$FIXTURE_PREFIX/tinyproxy:1" "$HERE/fixtures/forward-proxy/Dockerfile" "$HERE/fixtures/forward-proxy"
}

main() {
    command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/bootstrap.sh first"
    local started=$SECONDS
    if [ "${1:-}" = --fixtures-only ]; then
        build_base
        build_fixtures
        log "fixture images ready in $((SECONDS - started)) s"
        return
    fi
    local sets
    sets=$(release_sets "$REPO_ROOT/roles/_common/vars/main.yml" "$@")

    # The client crates are the long pole (RocksDB): they build in the background while the Go binaries,
    # the base image and the fixtures build beside them at a lower CPU priority (nice 10), on the cores
    # cargo leaves idle in its serial phases: they finish long before cargo, which must not wait for them.
    # (Both run as background jobs, so that errexit holds inside them; a `( ... ) || die` would switch it off.)
    local name manager scheduler client clients_pid others_pid
    (while read -r name manager scheduler client; do build_client "$client"; done <<<"$sets") &
    clients_pid=$!
    (
        renice -n 10 -p "$BASHPID" >/dev/null
        build_base
        build_health_probe
        while read -r name manager scheduler client; do
            build_dragonfly_go "$manager"
            [ "$scheduler" = "$manager" ] || build_dragonfly_go "$scheduler"
        done <<<"$sets"
        build_fixtures
    ) &
    others_pid=$!
    wait "$others_pid" || die "building the Go binaries, the base image or the fixtures failed (logs: $P2P_DRAGONFLY_CACHE/logs/)"
    wait "$clients_pid" || die "building the client failed (logs: $P2P_DRAGONFLY_CACHE/logs/cargo-install-*)"

    local probe="$BIN/grpc-health-probe-$HEALTH_PROBE_VERSION/grpc-health-probe"
    local probe_ctx client_bin
    probe_ctx=$(mktemp -d)
    cp "$probe" "$probe_ctx/grpc_health_probe"
    while read -r name manager scheduler client; do
        log "release set $name: manager $manager, scheduler $scheduler, client $client (opt-level $CLIENT_OPT_LEVEL)"
        build_image "dragonflyoss/manager:$manager" "$HERE/dragonfly/manager.Dockerfile" "$probe_ctx" \
            "$BIN/dragonfly-$manager/manager"
        build_image "dragonflyoss/scheduler:$scheduler" "$HERE/dragonfly/scheduler.Dockerfile" "$probe_ctx" \
            "$BIN/dragonfly-$scheduler/scheduler"
        client_bin=$(client_dir "$client")/bin
        IMAGE_LABELS="$CLIENT_OPT_LABEL=$CLIENT_OPT_LEVEL" build_image "dragonflyoss/client:$client" \
            "$HERE/dragonfly/client.Dockerfile" "$probe_ctx" "$client_bin/dfdaemon" "$client_bin/dfget" "$client_bin/dfctl"
    done <<<"$sets"
    rm -rf "$probe_ctx"
    log "images ready in $((SECONDS - started)) s"
}

main "$@"
