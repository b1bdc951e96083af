#!/usr/bin/env bash
# The main job: deploy the all-in-one Dragonfly stack on this host (inventories/all-in-one), preheat
# the bundled test image and file into its seed peer, and print the verification summary.
#   scripts/main.sh          deploy + preheat + verify (idempotent: run it again, nothing changes)
#   scripts/main.sh remove   remove the stack and the test origin (data in /opt/dragonfly is kept)
# Images: with internet access (Docker Hub answers within 5 s) the official images are pulled by
# their pinned tags; offline, tests/images/build.sh builds them locally from the pinned upstream
# releases under the same tags, and MariaDB/Redis come from the local fixture images.
# P2P_DRAGONFLY_IMAGES=official|local forces the choice.
# The components advertise the gateway of a docker network of their own (172.31.250.1), so the job
# works without a default route and no traffic leaves the host; the test origin (registry and file
# server holding the bundled test content) is published there too.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

LAB_NETWORK=p2p-df-lab
ADVERTISE_IP=${P2P_DRAGONFLY_ADVERTISE_IP:-172.31.250.1}
CONTENT_ROOT="$P2P_DRAGONFLY_CACHE/content"
INVENTORY="$REPO_ROOT/inventories/all-in-one/hosts.yml"

bash "$REPO_ROOT/scripts/bootstrap.sh"
venv_activate
cd "$REPO_ROOT"
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}

# The test origin (registry and file server with the bundled content): tests/images/fixtures/origin.
# The content lives below CONTENT_ROOT/<key>/ (tests/images/content.py prints where).
origin() {
    local description
    description=$(python3 tests/images/content.py generate "$CONTENT_ROOT")
    ORIGIN_IP="$ADVERTISE_IP" ORIGIN_FILES_DIR="$(dirname "$description")/files" \
        docker compose -f "$REPO_ROOT/tests/images/fixtures/origin/compose.yaml" -p p2p-dragonfly-origin "$@"
}

if [ "${1:-}" = remove ]; then
    ansible-playbook -i "$INVENTORY" playbooks/remove.yml
    origin down --volumes
    exit 0
fi

images=${P2P_DRAGONFLY_IMAGES:-}
if [ -z "$images" ]; then
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' https://registry-1.docker.io/v2/ || true)
    if [ "$code" = 401 ] || [ "$code" = 200 ]; then images=official; else images=local; fi
fi
extra=(-e "dragonfly_advertise_ip=$ADVERTISE_IP")
if [ "$images" = local ]; then
    log "offline: building the pinned images locally (cached after the first run)"
    bash tests/images/build.sh ${P2P_DRAGONFLY_RELEASE_SETS:-$(default_release_set)}
    extra+=(-e dragonfly_manager_database_image=localhost/p2p-dragonfly/mariadb:10.11
            -e dragonfly_redis_image=localhost/p2p-dragonfly/redis:7.0
            -e dragonfly_manager_proxy_image=localhost/p2p-dragonfly/nginx:1.22)
else
    log "online: the official images are pulled by their pinned tags"
    # The origin's images are local fixtures in any case (there is no public image of the test content).
    bash tests/images/build.sh --fixtures-only
fi

docker network inspect "$LAB_NETWORK" >/dev/null 2>&1 ||
    docker network create --subnet 172.31.250.0/24 --gateway "$ADVERTISE_IP" "$LAB_NETWORK" >/dev/null
origin up --detach --wait --quiet-pull
python3 tests/images/content.py push "$CONTENT_ROOT" http://127.0.0.1:15000

content=(-e "dragonfly_preheat_images=$ADVERTISE_IP:15000/p2p-test/multilayer:1.0"
         -e "dragonfly_preheat_files=http://$ADVERTISE_IP:18081/medium.bin"
         -e dragonfly_preheat_insecure_registry=true)
log "1/3 deploy (playbooks/site.yml)"
ansible-playbook -i "$INVENTORY" playbooks/site.yml "${extra[@]}"
log "2/3 preheat (playbooks/preheat.yml)"
ansible-playbook -i "$INVENTORY" playbooks/preheat.yml "${extra[@]}" "${content[@]}"
log "3/3 verify (playbooks/verify.yml)"
ansible-playbook -i "$INVENTORY" playbooks/verify.yml "${extra[@]}" "${content[@]}"
log "done: the stack runs in /opt/dragonfly; scripts/main.sh remove takes it down (data is kept)"
