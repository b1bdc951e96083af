#!/usr/bin/env bash
# The main job: deploy the all-in-one Dragonfly stack on this host (inventories/all-in-one), preheat
# the bundled test image and file into its seed peer, and print the verification summary.
#   scripts/main.sh          deploy + preheat + verify (idempotent: run it again, nothing changes)
#   scripts/main.sh remove   remove the stack and the test origin (data in /opt/dragonfly is kept)
# Images: with internet access (Docker Hub answers within 5 s) the official images are pulled by
# their pinned tags; offline, tests/images/build.sh builds them locally from the pinned upstream
# releases under the same tags, and MariaDB/Redis come from the local fixture images.
# P2P_DRAGONFLY_IMAGES=official|local forces the choice.
# The components advertise the gateway of a docker network of their own, so the job works without a
# default route and no traffic leaves the host; the test origin (registry and file server holding the
# bundled test content) is published there too. Network, origin and paths: the lab definition
# (tests/lib/lab.yml, stack `main`; P2P_DRAGONFLY_ADVERTISE_IP overrides the gateway).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

bash "$REPO_ROOT/scripts/bootstrap.sh"
venv_activate
cd "$REPO_ROOT"
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}

LAB_NETWORK=$(lab_value network.name)
ADVERTISE_IP=${P2P_DRAGONFLY_ADVERTISE_IP:-$(lab_value network.gateway)}
CONTENT_ROOT=$(lab_value content_root)
INVENTORY=$(lab_value stacks.main.inventory)
REGISTRY_PORT=$(lab_value origin.registry_port)
FILES_PORT=$(lab_value origin.files_port)

# The test origin (registry and file server with the bundled content): tests/images/fixtures/origin.
# The content lives below CONTENT_ROOT/<key>/ (tests/images/content.py prints where).
origin() {
    local description
    description=$(python3 tests/images/content.py generate "$CONTENT_ROOT")
    ORIGIN_IP="$ADVERTISE_IP" ORIGIN_FILES_DIR="$(dirname "$description")/files" ORIGIN_REGISTRY_PORT="$REGISTRY_PORT" \
        ORIGIN_FILES_PORT="$FILES_PORT" docker compose -f "$(lab_value origin.compose_file)" \
        -p "$(lab_value stacks.main.origin_project)" "$@"
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
    docker network create --subnet "$(lab_value network.subnet)" --gateway "$ADVERTISE_IP" "$LAB_NETWORK" >/dev/null
origin up --detach --wait --quiet-pull
python3 tests/images/content.py push "$CONTENT_ROOT" "http://127.0.0.1:$REGISTRY_PORT"

content=(-e "dragonfly_preheat_images=$ADVERTISE_IP:$REGISTRY_PORT/p2p-test/multilayer:1.0"
         -e "dragonfly_preheat_files=http://$ADVERTISE_IP:$FILES_PORT/medium.bin"
         -e dragonfly_preheat_insecure_registry=true)
log "1/3 deploy (playbooks/site.yml)"
ansible-playbook -i "$INVENTORY" playbooks/site.yml "${extra[@]}"
log "2/3 preheat (playbooks/preheat.yml)"
ansible-playbook -i "$INVENTORY" playbooks/preheat.yml "${extra[@]}" "${content[@]}"
log "3/3 verify (playbooks/verify.yml)"
ansible-playbook -i "$INVENTORY" playbooks/verify.yml "${extra[@]}" "${content[@]}"
log "done: the stack runs in /opt/dragonfly; scripts/main.sh remove takes it down (data is kept)"
