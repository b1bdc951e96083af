#!/usr/bin/env bash
# The whole test suite, with its own set-up:   scripts/test.sh
# One gate alone:                               scripts/test.sh GATE [GATE...]
# Gates, in the order the whole suite runs them:
#   yamllint   YAML style of the repository
#   lint       ansible-lint, profile production
#   sanity     ansible-test sanity on a copy placed under ansible_collections/p2p/dragonfly
#   units      pytest tests/unit
#   runtime    the peer and seed peer roles' container runtime wiring, run for real against files in a
#              temporary directory (needs the containerd binary, no daemon, no Docker)
#   changelog  antsibull-changelog lint (fragments are valid)
#   build      ansible-galaxy collection build, and what the tarball must (not) contain
#   ee         ansible-builder create from examples/execution-environment.yml (offline, no image build) and what
#              the build context holds; the galaxy stage re-enacted offline, then builder's own introspection
#   images     build the real Dragonfly images (default release set; P2P_DRAGONFLY_RELEASE_SETS="2.5.0 2.5.1"
#              for more) and the test fixtures (cached; a second run builds nothing)
#   smoke      the locally built images run a real stack and a preheat lands on disk
#   e2e        real ansible-playbook runs against the real stack: preflight refusals, preheat and cache_assert,
#              the playbooks through ansible-runner, pulls through a peer with a private containerd
#   molecule   molecule scenarios (extensions/molecule): converge, idempotence, independent verify
# Every gate runs scripts/bootstrap.sh first (idempotent, a few seconds when all is in place).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ALL_GATES=(yamllint lint sanity units runtime changelog build ee images smoke e2e molecule)

gate_yamllint() { yamllint --strict .; }

gate_lint() { ansible-lint --offline; }

gate_sanity() {
    local copy
    copy=$(copy_collection_for_ansible_test)
    (cd "$copy" && ansible-test sanity --venv --requirements --python 3.11 --color no)
}

gate_units() {
    local copy
    copy=$(copy_collection_for_ansible_test)
    # The copy's ansible_collections/ parent must be importable: tests import ansible_collections.p2p.dragonfly.
    (cd "$copy" && PYTHONPATH="$(cd ../../.. && pwd)" python -m pytest -p no:cacheprovider tests/unit -q)
}

# Real ansible-playbook runs of the entry points p2p.dragonfly.peer:runtime and seed_peer:runtime; each test
# links this checkout into a collections tree of its own, so nothing shared is touched.
gate_runtime() { python -m pytest -p no:cacheprovider tests/runtime -v; }

gate_changelog() { antsibull-changelog lint; }

gate_build() {
    local out
    out=$(mktemp -d)
    ansible-galaxy collection build --force --output-path "$out" . >/dev/null
    python3 scripts/check_build.py "$out"/p2p-dragonfly-*.tar.gz
    rm -rf "$out"
}

# The EE example as a user builds it: the tarball beside examples/ (where `ansible-galaxy collection build`
# writes it in a checkout), `ansible-builder create` (writes the build context only: no container runtime, no
# network), then the image's galaxy stage offline (community.docker comes from the venv) and checks of the result.
gate_ee() {
    local tmp rc=0
    tmp=$(mktemp -d)
    mkdir -p "$tmp/checkout/examples"
    cp examples/execution-environment.yml examples/requirements.yml "$tmp/checkout/examples/"
    { ansible-galaxy collection build --force --output-path "$tmp/checkout" . >/dev/null &&
        ansible-builder create -f "$tmp/checkout/examples/execution-environment.yml" --context "$tmp/context" \
            --output-filename Containerfile -v 1 &&
        (cd "$tmp/context/_build" &&
            ANSIBLE_COLLECTIONS_PATH="$tmp/collections:$VIRTUAL_ENV/lib/python3.11/site-packages" \
            ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 \
            ansible-galaxy collection install --offline -r requirements.yml --collections-path "$tmp/collections" \
                >/dev/null) &&
        python3 scripts/check_ee.py "$tmp/context" "$tmp/collections" "$tmp/checkout/examples"; } || rc=$?
    rm -rf "$tmp"
    return $rc
}

# The default release set only: a cold build of one set takes ~40 min on 2 cores (RocksDB), and
# nothing in the suite runs the newer set yet. `tests/images/build.sh 2.5.1` builds it (~25 min more).
gate_images() { bash tests/images/build.sh ${P2P_DRAGONFLY_RELEASE_SETS:-2.5.0}; }

gate_smoke() {
    link_collection
    PYTHONPATH="$P2P_DRAGONFLY_CACHE/collections" python -m pytest -p no:cacheprovider tests/smoke -v
}

gate_e2e() {
    link_collection
    python -m pytest -p no:cacheprovider tests/e2e -v
}

gate_molecule() {
    link_collection
    local scenario failed=0
    for scenario in ${MOLECULE_SCENARIOS:-default custom}; do
        molecule test -s "$scenario" || failed=1
    done
    return $failed
}

main() {
    local gates=("$@")
    [ ${#gates[@]} -gt 0 ] || gates=("${ALL_GATES[@]}")
    for gate in "${gates[@]}"; do
        declare -F "gate_$gate" >/dev/null || die "unknown gate '$gate' (known: ${ALL_GATES[*]})"
    done
    bash "$REPO_ROOT/scripts/bootstrap.sh"
    venv_activate
    local failed=() passed=() started
    for gate in "${gates[@]}"; do
        log "gate $gate: start"
        started=$SECONDS
        # In a subshell with errexit of its own: as an `if` condition the gate would run without it, and a
        # failing command in the middle of a gate would go unnoticed.
        set +e
        (set -e; "gate_$gate")
        local status=$?
        set -e
        if [ $status -eq 0 ]; then
            passed+=("$gate")
            log "gate $gate: passed in $((SECONDS - started)) s"
        else
            failed+=("$gate")
            log "gate $gate: FAILED after $((SECONDS - started)) s"
            # Later gates need the images; the static ones are independent and all worth reporting.
            case "$gate" in images) break ;; esac
        fi
    done
    log "gates passed: ${passed[*]:-none}"
    [ ${#failed[@]} -eq 0 ] || die "gates failed: ${failed[*]}"
}

main "$@"
