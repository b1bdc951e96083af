# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether `docker compose up --wait` would find nothing to do in a project: the judgement of the module
compose_project_info, on what `docker compose config` and `docker inspect` said (private to this collection).

Compose (re)creates a service's container when the service's config hash (`docker compose config --hash`, the label
com.docker.compose.config-hash) or the ID of its image (the label com.docker.compose.image) differs, or when the
container is no longer attached to the networks it should be; it starts a container that is not running, removes
orphans, and `--wait` waits for each container's health check. Every such case is a reason here, and so is anything
this judgement does not follow (one-off containers, more than one container of a service, a service without an
image): the caller then runs compose, which decides.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


PROJECT_LABEL = 'com.docker.compose.project'
SERVICE_LABEL = 'com.docker.compose.service'
HASH_LABEL = 'com.docker.compose.config-hash'
IMAGE_LABEL = 'com.docker.compose.image'
ONEOFF_LABEL = 'com.docker.compose.oneoff'


def parse_hashes(text):
    """`docker compose config --hash '*'` output (one `service hash` a line) as a dict."""
    hashes = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            hashes[parts[0]] = parts[1]
    return hashes


def expected_services(config, hashes):
    """The services of `docker compose config --format json` with what their container must have.

    Returns ``(services, reasons)``: services maps a name to ``{'hash', 'image', 'networks'}`` (networks: the docker
    network names the container must be attached to, exactly); reasons lists what this judgement does not follow.
    """
    reasons = []
    services = {}
    declared = config.get('networks') or {}
    for name, service in sorted((config.get('services') or {}).items()):
        if name not in hashes:
            reasons.append(f'service {name}: compose gave no config hash')
            continue
        image = service.get('image')
        if not image:
            reasons.append(f'service {name}: no image (built by compose)')
            continue
        replicas = (service.get('deploy') or {}).get('replicas')
        scale = service.get('scale')
        if (replicas is not None and replicas != 1) or (scale is not None and scale != 1):
            reasons.append(f'service {name}: more than one container wanted')
            continue
        if service.get('network_mode'):
            networks = None  # not checked: compose attaches no project network then
        else:
            networks = sorted((declared.get(key) or {}).get('name') or key for key in (service.get('networks') or {}))
        services[name] = dict(hash=hashes[name], image=image, networks=networks)
    for name in sorted(set(hashes) - set(services) - set(config.get('services') or {})):
        reasons.append(f'service {name}: compose gave a config hash for a service it does not list')
    return services, reasons


def _container_reasons(name, expected, container, image_ids, network_ids):
    labels = (container.get('Config') or {}).get('Labels') or {}
    state = container.get('State') or {}
    reasons = []
    if labels.get(HASH_LABEL) != expected['hash']:
        reasons.append(f'service {name}: the container was created from another configuration')
    image_id = image_ids.get(expected['image'])
    if image_id is None:
        reasons.append(f"service {name}: the image {expected['image']} is not present")
    elif labels.get(IMAGE_LABEL) != image_id or container.get('Image') != image_id:
        reasons.append(f"service {name}: the container runs another image than {expected['image']} is now")
    if state.get('Status') != 'running':
        reasons.append(f"service {name}: the container is {state.get('Status') or 'in an unknown state'}")
    elif state.get('Health') is not None and (state['Health'] or {}).get('Status') != 'healthy':
        reasons.append(f"service {name}: the container is {(state['Health'] or {}).get('Status') or 'not healthy'}")
    if expected['networks'] is not None:
        attached = (container.get('NetworkSettings') or {}).get('Networks') or {}
        if sorted(attached) != expected['networks']:
            reasons.append(f'service {name}: the container is attached to other networks than the project says')
        else:
            for network in expected['networks']:
                current = network_ids.get(network)
                if current is None or (attached[network] or {}).get('NetworkID') != current:
                    reasons.append(f'service {name}: the network {network} was replaced or is missing')
    return reasons


def assess(services, containers, image_ids, network_ids):
    """Why compose would change something in the project; an empty list when it would not.

    ``services`` from :func:`expected_services`; ``containers``: `docker inspect` of every container with the project's
    label; ``image_ids``: image reference to the ID it now names (missing: not present); ``network_ids``: network name
    to its ID (missing: no such network).
    """
    reasons = []
    found = {}
    for container in containers:
        labels = (container.get('Config') or {}).get('Labels') or {}
        service = labels.get(SERVICE_LABEL)
        if str(labels.get(ONEOFF_LABEL, 'False')).lower() == 'true':
            reasons.append(f'service {service}: a one-off container exists')
        elif service not in services:
            reasons.append(f'service {service}: an orphan container exists')
        else:
            found.setdefault(service, []).append(container)
    for name, expected in sorted(services.items()):
        mine = found.get(name, [])
        if not mine:
            reasons.append(f'service {name}: no container')
        elif len(mine) > 1:
            reasons.append(f'service {name}: {len(mine)} containers')
        else:
            reasons.extend(_container_reasons(name, expected, mine[0], image_ids, network_ids))
    return reasons
