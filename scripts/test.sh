#!/usr/bin/env bash
# The whole test suite, with its own set-up:   scripts/test.sh
# The contributors' quick tier:                 scripts/test.sh quick   (static gates and units, no images)
# Some gates alone:                             scripts/test.sh GATE [GATE...]
# Gates:
#   yamllint   YAML style of the repository
#   lint       ansible-lint, profile production
#   sanity     ansible-test sanity on a copy placed under ansible_collections/p2p/dragonfly
#   units      pytest tests/unit
#   runtime    the peer and seed peer roles' container runtime wiring, run for real against files in a
#              temporary directory (needs the containerd binary, no daemon, no Docker)
#   changelog  antsibull-changelog lint (fragments and changelogs/changelog.yaml are valid)
#   docs       antsibull-docs lint-collection-docs: module, role and playbook docs, every reference resolves
#   build      ansible-galaxy collection build, what the tarball must (not) contain, and the tarball installed
#              into an empty collections path as a user installs it (README, licence, ansible-doc from there)
#   ee         ansible-builder create from examples/execution-environment.yml (offline, no image build) and what
#              the build context holds; the galaxy stage re-enacted offline, then builder's own introspection
#   images     build the real Dragonfly images (default release set; P2P_DRAGONFLY_RELEASE_SETS="2.5.0 2.5.1+1.5.10"
#              for more) and the test fixtures (cached; a second run builds nothing)
#   smoke      the locally built images run a real stack and a preheat lands on disk
#   e2e        real ansible-playbook runs against real stacks (tests/e2e/inventory.yml): preflight refusals,
#              preheat and cache_assert, pulls through a peer with a private containerd, private registries on one
#              stack; at the same time the playbooks through ansible-runner, backup/restore, upgrade on another, and
#              evict, remove and redeploy, rotate on a third (tests/lib/lab.yml stacks e2e, e2e_playbooks, e2e_ops)
#   molecule   molecule scenarios (extensions/molecule): converge, idempotence, (default) re-runs with work to do,
#              independent verify
#   lab        the fleet lab (tests/lab: hosts of their own over SSH, images from a lab registry mirror):
#              site.yml on inventories/lab converges, a second run changes nothing, a preheat lands on both seed
#              hosts and verify.yml passes; every peer host pulls through its own proxy (the origin sends nothing
#              after the preheat, an image nobody preheated once for all peers); one seed peer stopped: the preheat
#              fails naming it, on the live one it passes, site.yml heals it; upgrade.yml rolls host by host
#              (where release set 2.5.1 is built too); then the molecule scenario
#              multihost on the same lab; the lab is removed at the end (P2P_FLEET_KEEP=1 keeps it, without
#              the scenario)
#
# How they run: the static gates (yamllint .. ee) run one after another in one lane, at a lower CPU priority;
# beside them, the stack lane builds the images (on a fresh machine the client crate takes most of the run)
# and then runs smoke, e2e and molecule at the same time: their stacks have their own compose projects, ports
# and directories, and most of their time is spent waiting on Dragonfly (the scheduler's first seed-ring
# refresh comes a minute after it starts). Each gate's output goes to a log of its own and is printed whole
# when the gate ends; the run ends with a table of every gate's start, end and duration.
# Every run starts with scripts/bootstrap.sh (idempotent, a few seconds when all is in place); the compose
# plugin build, which only the stack gates need, runs beside the images. A stack gate named alone gets the
# images gate before it (a few seconds when the images are current).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ALL_GATES=(yamllint lint sanity units runtime changelog docs build ee images smoke e2e molecule lab)

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

gate_changelog() {
    antsibull-changelog lint
    antsibull-changelog lint-changelog-yaml --strict changelogs/changelog.yaml
}

# ansible-doc sees this collection and its dependencies (galaxy.yml) only: by default it also reads every collection
# of the `ansible` package in the venv, which took 123 of the gate's 133 CPU seconds. A reference to a collection
# outside the dependencies is still refused (--disallow-unknown-collection-refs).
gate_docs() {
    local copy deps name rc=0 site=$VIRTUAL_ENV/lib/python3.11/site-packages/ansible_collections
    copy=$(copy_collection_for_ansible_test)
    deps=$(mktemp -d)
    for name in $(python3 -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["dependencies"]))' \
        galaxy.yml); do
        mkdir -p "$deps/ansible_collections/${name%%.*}"
        ln -s "$site/${name%%.*}/${name#*.}" "$deps/ansible_collections/${name%%.*}/${name#*.}"
    done
    (cd "$copy" && ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_COLLECTIONS_PATH="$(cd ../../.. && pwd):$deps" \
        antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs=all \
        --disallow-unknown-collection-refs .) || rc=$?
    rm -rf "$deps"
    return $rc
}

gate_build() {
    local out head
    out=$(mktemp -d)
    ansible-galaxy collection build --force --output-path "$out" . >/dev/null
    python3 scripts/check_build.py "$out"/p2p-dragonfly-*.tar.gz
    # As a user installs it: into an empty collections path, away from this checkout (community.docker, the
    # dependency, from the venv as Galaxy would serve it), then read from there only.
    (cd "$out" && ANSIBLE_COLLECTIONS_PATH="$out/installed:$VIRTUAL_ENV/lib/python3.11/site-packages" \
        ansible-galaxy collection install --offline --collections-path "$out/installed" \
        "$out"/p2p-dragonfly-*.tar.gz >/dev/null)
    (cd "$out" && ANSIBLE_COLLECTIONS_PATH="$out/installed" python3 "$REPO_ROOT/scripts/check_installed.py" \
        "$out/installed/ansible_collections/p2p/dragonfly")
    # The README's other way: a git source pinned to a commit (this checkout's HEAD stands in for the repository).
    head=$(git rev-parse HEAD)
    (cd "$out" && ANSIBLE_COLLECTIONS_PATH="$out/from-git:$VIRTUAL_ENV/lib/python3.11/site-packages" \
        ansible-galaxy collection install --offline --collections-path "$out/from-git" \
        "git+file://$REPO_ROOT,$head" >/dev/null)
    [ -f "$out/from-git/ansible_collections/p2p/dragonfly/MANIFEST.json" ] ||
        { echo "installing from a git source did not install p2p.dragonfly"; return 1; }
    echo "installed from a git source at ${head:0:12}"
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
        python3 scripts/check_ee.py "$tmp/context" "$tmp/collections" "$tmp/checkout/examples" &&
        awx_project_sync "$tmp"; } || rc=$?
    rm -rf "$tmp"
    return $rc
}

# examples/awx-project synced the way AWX does it (awx/playbooks/project_update.yml: in the project's root,
# `ansible-galaxy collection install -r collections/requirements.yml` into a stage directory), with the tarball
# committed under collections/ as its docs say; community.docker from the venv, as Galaxy would serve it. The
# contrast: naming p2p.dragonfly as a Galaxy collection, as the example did before, cannot be installed.
awx_project_sync() {  # tmp (holding the tarball in checkout/)
    local tmp=$1 project=$1/awx-project stage=$1/awx-stage
    cp -r examples/awx-project "$project"
    cp "$tmp"/checkout/p2p-dragonfly-*.tar.gz "$project/collections/"
    (cd "$project" && ANSIBLE_COLLECTIONS_PATH="$stage:$VIRTUAL_ENV/lib/python3.11/site-packages" \
        ansible-galaxy collection install --offline -r collections/requirements.yml --collections-path "$stage" \
        >/dev/null)
    [ -f "$stage/ansible_collections/p2p/dragonfly/MANIFEST.json" ] ||
        { echo "awx-project: the sync did not install p2p.dragonfly"; return 1; }
    printf 'collections:\n  - name: p2p.dragonfly\n    version: %s\n' "$(sed -n 's/^version: //p' galaxy.yml)" \
        >"$project/galaxy-name.yml"
    if (cd "$project" && ANSIBLE_COLLECTIONS_PATH="$tmp/empty:$VIRTUAL_ENV/lib/python3.11/site-packages" \
        ansible-galaxy collection install --offline -r galaxy-name.yml --collections-path "$tmp/empty") \
        >/dev/null 2>&1; then
        echo "awx-project: p2p.dragonfly by name installed without Galaxy: the contrast proves nothing"; return 1
    fi
    echo "awx-project: project sync installed p2p.dragonfly from collections/; by name it cannot be installed"
}

# The default release set only: the older sets are only for the upgrade test, which is skipped without them
# (`tests/images/build.sh 2.5.0` builds the one it upgrades from).
gate_images() { bash tests/images/build.sh ${P2P_DRAGONFLY_RELEASE_SETS:-$(default_release_set)}; }

# tests/lib (the lab definition and the helpers the stack gates share, package p2p_lab) is on PYTHONPATH.
gate_smoke() {

    PYTHONPATH="$P2P_DRAGONFLY_COLLECTIONS:$REPO_ROOT/tests/lib" python -m pytest -p no:cacheprovider tests/smoke -v
}

# The e2e modules in three pytest sessions at the same time, each on a stack of its own (tests/lib/lab.yml stacks
# e2e, e2e_playbooks and e2e_ops): their time is mostly waiting on Dragonfly's job cadence and on containers starting,
# so the sessions overlap those waits. test_playbooks.py on e2e_playbooks, except its three tests that wait longest
# (evict, remove and redeploy, rotate; each sets up what it needs with the same helpers), which run on e2e_ops; the
# other modules on e2e. Each session's output is printed whole after all ended.
E2E_OPS_TESTS=(test_evict_removes_the_content_everywhere_and_a_new_preheat_downloads_it_again
               test_remove_keeps_data_and_site_brings_the_same_deployment_back
               test_rotate_applies_every_new_secret_before_the_old_is_refused)

gate_e2e() {
    local sessions=(e2e e2e_playbooks e2e_ops) stack pids=() failed=0 index module test others=() ops=() rest=()
    local playbooks=tests/e2e/test_playbooks.py
    for module in tests/e2e/test_*.py; do [ "$module" = "$playbooks" ] || others+=("$module"); done
    for test in "${E2E_OPS_TESTS[@]}"; do
        ops+=("$playbooks::$test")
        rest+=(--deselect "$playbooks::$test")
    done
    e2e_session e2e "${others[@]}" &
    pids+=($!)
    e2e_session e2e_playbooks "$playbooks" "${rest[@]}" &
    pids+=($!)
    e2e_session e2e_ops "${ops[@]}" &
    pids+=($!)
    for index in "${!pids[@]}"; do
        wait "${pids[$index]}" || failed=1
        stack=${sessions[$index]}
        printf '\n----- e2e session on stack %s -----\n' "$stack"
        cat "$RUN_DIR/e2e-$stack.log"
    done
    return $failed
}

e2e_session() {  # stack pytest-arguments...
    local stack=$1 status=0
    shift
    # P2P_DRAGONFLY_E2E_ARGS: more pytest arguments, e.g. "-k upgrade" for one test (a session that then selects
    # nothing passes, and deploys no stack). Every test's duration at the end: where the suite's time goes.
    # shellcheck disable=SC2086
    P2P_E2E_STACK=$stack PYTHONPATH="$REPO_ROOT/tests/lib" python -m pytest -p no:cacheprovider "$@" -v \
        --durations=0 --durations-min=1 ${P2P_DRAGONFLY_E2E_ARGS:-} >"$RUN_DIR/e2e-$stack.log" 2>&1 || status=$?
    # pytest's 5: no test selected.
    [ "$status" = 0 ] || { [ "$status" = 5 ] && [ -n "${P2P_DRAGONFLY_E2E_ARGS:-}" ]; }
}

gate_molecule() {

    local scenario failed=0
    for scenario in ${MOLECULE_SCENARIOS:-default custom}; do
        molecule test -s "$scenario" || failed=1
    done
    return $failed
}

# The molecule scenario multihost first, as users run it (create: lab.py up; converge and idempotence: site.yml twice
# over SSH; verify: images from the mirror, a preheat on every seed peer and verify.yml). Its converge and idempotence
# are the proofs of tests/lab/test_fleet.py's first two tests, which are left out here: two runs of site.yml on ten
# hosts fewer. The other lab tests then run on the lab it converged; destroy takes the lab down (P2P_FLEET_KEEP=1
# keeps it).
gate_lab() {

    local failed=0 step fleet=tests/lab/test_fleet.py
    for step in syntax create converge idempotence verify; do
        molecule "$step" -s multihost || { failed=1; break; }
    done
    if [ "$failed" = 0 ]; then
        P2P_FLEET_KEEP=1 python -m pytest -p no:cacheprovider tests/lab -v --durations=0 --durations-min=1 \
            --deselect "$fleet::test_site_converges_over_ssh" --deselect "$fleet::test_second_run_changes_nothing" ||
            failed=1
    fi
    if [ "${P2P_FLEET_KEEP:-}" != 1 ]; then
        molecule destroy -s multihost || python tests/lab/lab.py down || failed=1
    fi
    return $failed
}

STATIC_GATES=(yamllint lint sanity units runtime changelog docs build ee)
STACK_GATES=(smoke e2e molecule lab)
QUICK_GATES=(yamllint lint sanity units changelog docs build)

RUN_DIR=""
RUN_START=$SECONDS

# One gate, its output in its own log (printed whole when it ends, never interleaved with another gate's),
# its result in a file the table reads: "status start end" in seconds since the run started.
run_gate() {  # gate
    local gate=$1 logfile="$RUN_DIR/$1.log" started=$((SECONDS - RUN_START)) status
    log "gate $gate: start"
    printf 'running %s -\n' "$started" >"$RUN_DIR/$gate.result"
    # A subshell with errexit of its own: as an `if` condition the gate would run without it, and a failing
    # command in the middle of a gate would go unnoticed.
    set +e
    (set -e; "gate_$gate") >"$logfile" 2>&1 </dev/null
    status=$?
    set -e
    local ended=$((SECONDS - RUN_START)) word=passed
    [ $status -eq 0 ] || word=failed
    printf '%s %s %s\n' "$word" "$started" "$ended" >"$RUN_DIR/$gate.result"
    {
        flock 9
        printf '\n===== gate %s: %s in %d s (log %s) =====\n' "$gate" "$word" $((ended - started)) "$logfile"
        cat "$logfile"
        printf '===== end of gate %s =====\n' "$gate"
    } 9>"$RUN_DIR/.print-lock" >&2
    return $status
}

skip_gate() {  # gate reason
    printf 'skipped - - %s\n' "$2" >"$RUN_DIR/$1.result"
    log "gate $1: skipped ($2)"
}

static_lane() {  # gates...
    # Below the stack lane in CPU priority: the stack gates wait on timeouts, the static ones only on CPU.
    renice -n 10 -p "$BASHPID" >/dev/null
    local gate
    for gate in "$@"; do run_gate "$gate" || true; done
}

stack_lane() {  # gates...
    local gate pids=() images_ok=1 compose_ok=1 compose_pid
    # The compose plugin (a Go build on a fresh machine) builds beside the images; only the gates after them
    # need it. Started here: `wait` only knows this shell's own children.
    (renice -n 10 -p "$BASHPID" >/dev/null; bash "$REPO_ROOT/scripts/bootstrap.sh" --only compose) \
        >"$RUN_DIR/bootstrap-compose.log" 2>&1 &
    compose_pid=$!
    for gate in "$@"; do
        [ "$gate" = images ] || continue
        run_gate images || images_ok=0
    done
    wait "$compose_pid" || compose_ok=0
    for gate in "$@"; do
        [ "$gate" = images ] && continue
        if [ $images_ok = 0 ]; then skip_gate "$gate" "images failed"; continue; fi
        if [ $compose_ok = 0 ]; then
            skip_gate "$gate" "the compose plugin did not build: $RUN_DIR/bootstrap-compose.log"
            continue
        fi
        run_gate "$gate" &
        pids+=($!)
    done
    local pid
    for pid in "${pids[@]}"; do wait "$pid" || true; done
}

print_table() {  # gates...
    local gate word start end extra passed=0 failed=0 skipped=0 table="$RUN_DIR/table.txt"
    printf '\n%-10s %-8s %7s %7s %8s\n' gate result start end seconds >"$table"
    printf '%-10s %-8s %7s %7s %8s\n' bootstrap passed 0 "$BOOTSTRAP_END" "$BOOTSTRAP_END" >>"$table"
    for gate in "$@"; do
        read -r word start end extra <"$RUN_DIR/$gate.result"
        case "$word" in
            passed) passed=$((passed + 1)) ;;
            failed) failed=$((failed + 1)) ;;
            *) skipped=$((skipped + 1)) ;;
        esac
        if [ "$word" = passed ] || [ "$word" = failed ]; then
            printf '%-10s %-8s %7s %7s %8s\n' "$gate" "$word" "$start" "$end" $((end - start)) >>"$table"
        else
            printf '%-10s %-8s %7s %7s %8s  %s\n' "$gate" "$word" - - - "$extra" >>"$table"
        fi
    done
    printf 'total wall time: %d s (%d min %d s); logs in %s\n' $((SECONDS - RUN_START)) \
        $(((SECONDS - RUN_START) / 60)) $(((SECONDS - RUN_START) % 60)) "$RUN_DIR" >>"$table"
    # The plain closing line CI reads.
    if [ $skipped -gt 0 ]; then
        printf 'gates: %d passed, %d failed, %d skipped\n' $passed $failed $skipped >>"$table"
    else
        printf 'gates: %d passed, %d failed\n' $passed $failed >>"$table"
    fi
    cat "$table"
    [ $failed -eq 0 ] && [ $skipped -eq 0 ]
}

main() {
    local gates=("$@")
    [ ${#gates[@]} -gt 0 ] || gates=("${ALL_GATES[@]}")
    [ "${gates[*]}" = quick ] && gates=("${QUICK_GATES[@]}")
    local gate
    for gate in "${gates[@]}"; do
        declare -F "gate_$gate" >/dev/null || die "unknown gate '$gate' (known: ${ALL_GATES[*]}, or quick)"
    done
    local static=() stack=()
    for gate in "${gates[@]}"; do
        case " ${STATIC_GATES[*]} " in *" $gate "*) static+=("$gate") ;; *) stack+=("$gate") ;; esac
    done
    # A stack gate alone still gets its images (built on a fresh machine, a few seconds when they are current),
    # so that it passes or fails on its own merits.
    if [ ${#stack[@]} -gt 0 ] && [[ " ${stack[*]} " != *" images "* ]]; then
        stack=(images "${stack[@]}")
        gates+=(images)
    fi

    RUN_START=$SECONDS
    bash "$REPO_ROOT/scripts/bootstrap.sh" --without compose
    BOOTSTRAP_END=$((SECONDS - RUN_START))
    venv_activate
    RUN_DIR="$CHECKOUT_STATE/test-runs/$(date +%Y%m%d-%H%M%S)"
    mkdir -p "$RUN_DIR"

    local lanes=()
    [ ${#static[@]} -eq 0 ] || { static_lane "${static[@]}" & lanes+=($!); }
    [ ${#stack[@]} -eq 0 ] || { stack_lane "${stack[@]}" & lanes+=($!); }
    local next=$((SECONDS + 60)) pid running
    while :; do
        running=0
        for pid in "${lanes[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
        [ $running = 1 ] || break
        if [ $SECONDS -ge $next ]; then
            log "running: $(grep -l '^running' "$RUN_DIR"/*.result 2>/dev/null | xargs -r -n1 basename | sed 's/\.result$//' | tr '\n' ' ')($((SECONDS - RUN_START)) s)"
            next=$((SECONDS + 60))
        fi
        sleep 2
    done
    for pid in "${lanes[@]}"; do wait "$pid" || true; done
    print_table "${gates[@]}"
}

main "$@"
