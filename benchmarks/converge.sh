#!/usr/bin/env bash
# Benchmark (not a test): the roles' cold converge of the all-in-one stack vs a plain
# `docker compose up --wait` of the same compose projects, and the idempotent re-run.
# Targets (issue 14): cold converge within 1.2x of plain compose until a preheat lands; idempotent re-run <= 12 s
# (the median of three, each checked to change nothing).
#   benchmarks/converge.sh        (after scripts/test.sh images; uses the molecule inventory)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
venv_activate
cd "$REPO_ROOT"
# Stack `benchmark` of the lab definition (tests/lib/lab.yml): the molecule default scenario's.
INVENTORY=$(lab_value stacks.benchmark.inventory)
BASE=$(lab_value stacks.benchmark.base)
export ANSIBLE_NOCOLOR=1

playbook() { ansible-playbook -i "$INVENTORY" "$@" >/tmp/bench-playbook.log 2>&1 || { tail -30 /tmp/bench-playbook.log; exit 1; }; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.1f}')"; }

ansible-playbook -i "$INVENTORY" extensions/molecule/default/prepare.yml >/dev/null
playbook extensions/molecule/default/destroy.yml

t0=$(now); playbook playbooks/site.yml; t1=$(now)
cold=$(elapsed "$t0" "$t1")
# Three re-runs, the median reported: on this kind of machine one run of the same playbook varies by 20-30 %.
reruns=()
for _ in 1 2 3; do
    t0=$(now); playbook playbooks/site.yml; t1=$(now)
    grep -Eq 'changed=0 ' /tmp/bench-playbook.log || { echo "a re-run changed something:"; tail -30 /tmp/bench-playbook.log; exit 1; }
    reruns+=("$(elapsed "$t0" "$t1")")
done
rerun=$(printf '%s\n' "${reruns[@]}" | sort -n | sed -n 2p)

# The same compose projects, brought up by plain compose from a copy of what the roles rendered.
plain_dir=$(mktemp -d)
cp -a "$BASE/." "$plain_dir/"
playbook extensions/molecule/default/destroy.yml
for project in manager scheduler seed-peer; do
    rm -rf "${plain_dir:?}/$project/mariadb" "${plain_dir:?}/$project/redis" "${plain_dir:?}/$project/cache" "${plain_dir:?}/$project/log"
    # The compose files name absolute host paths under $BASE: point them at the copy.
    sed -i "s#$BASE#$plain_dir#g" "$plain_dir/$project/compose.yaml"
done
t0=$(now)
for project in manager scheduler seed-peer; do
    docker compose --project-directory "$plain_dir/$project" up --detach --wait --quiet-pull >/dev/null 2>&1
done
t1=$(now)
plain=$(elapsed "$t0" "$t1")
# The roles' converge ends only once a real preheat landed on the seed peer; plain compose is not
# there yet when `up --wait` returns (the scheduler's seed ring is built a minute after it starts).
ready_wait=$(python3 benchmarks/ready_to_preheat.py "$(lab_value stacks.benchmark.manager_url)" "$plain_dir/seed-peer/cache" \
    --ca "$plain_dir/manager/tls/ca.crt")
plain_ready=$(python3 -c "print(f'{$plain + $ready_wait:.1f}')")
for project in seed-peer scheduler manager; do
    docker compose --project-directory "$plain_dir/$project" down >/dev/null 2>&1
done
rm -rf "$plain_dir"

ratio=$(python3 -c "print(f'{$cold / $plain:.2f}')")
ratio_ready=$(python3 -c "print(f'{$cold / $plain_ready:.2f}')")
printf 'cold converge (roles, ends when a probe preheat landed): %6s s\n' "$cold"
printf 'plain docker compose up --wait:                         %6s s\n' "$plain"
printf 'plain compose until a preheat lands:                    %6s s\n' "$plain_ready"
printf 'ratio roles/plain compose up:                           %6s\n' "$ratio"
printf 'ratio roles/plain compose ready to preheat:             %6s   (target <= 1.2)\n' "$ratio_ready"
printf 'idempotent re-run (roles), median of 3:                %6s s  (target <= 12 s; runs: %s)\n' "$rerun" "${reruns[*]}"
