#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: compose_project_info

short_description: Tell whether a docker compose project's containers are all as its compose file says

version_added: 0.1.0

description:
  - Reads a docker compose project (its C(compose.yaml) through C(docker compose config)) and its containers (through
    C(docker inspect)) and tells whether C(docker compose up --wait --remove-orphans) would find nothing to do, in a
    fraction of the time that C(up) itself takes.
  - RV(up_to_date) is V(true) only when every service has exactly one container, created from the service's current
    configuration (the config hash compose labels it with, C(com.docker.compose.config-hash)), from the image the
    service's image reference names now (C(com.docker.compose.image)), running, healthy if it has a health check,
    and attached to exactly the networks compose would attach it to, those still being the same networks; and when
    the project has no orphan and no one-off container.
  - Anything else, including a failing C(docker) command or a compose file that does not parse, gives V(false) with the
    reasons in RV(reasons); the module itself fails only on wrong input. Run compose when it says V(false), and compose
    decides what to do then.
  - It only reads. Changes made to mounted files are not seen, as compose does not see them either.

extends_documentation_fragment:
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.info_module

options:
  project_src:
    description:
      - The compose project directory, holding its compose file, as given to M(community.docker.docker_compose_v2)'s
        O(community.docker.docker_compose_v2#module:project_src).
      - The project name is the one compose gives it (the compose file's C(name), else the directory's name).
    type: path
    required: true
  docker_cli:
    description:
      - The C(docker) command; looked up in E(PATH) when not set.
    type: path

requirements:
  - The docker CLI with a compose v2 plugin that has C(docker compose config --hash) on the target (the roles of this
    collection require compose 2.18 or newer). Containers that a compose release made without the label
    C(com.docker.compose.image) are never found up to date.

notes:
  - Compose also recreates a network whose configuration changed; this module only checks that each container is
    attached to the current network of each name. Compose files whose networks changed have changed themselves, so the
    roles of this collection run compose whenever a compose file was written in the same run.

seealso:
  - module: community.docker.docker_compose_v2
  - module: p2p.dragonfly.project_files

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Write the scheduler's files
  p2p.dragonfly.project_files:
    files:
      - path: /opt/dragonfly/scheduler/compose.yaml
        content: "{{ lookup('ansible.builtin.template', 'compose.yaml.j2') }}"
  register: scheduler_files

- name: Check whether the scheduler's containers are as its compose file says
  p2p.dragonfly.compose_project_info:
    project_src: /opt/dragonfly/scheduler
  register: scheduler_state
  when: scheduler_files is not changed

- name: Apply the project unless nothing is to do
  community.docker.docker_compose_v2:
    project_src: /opt/dragonfly/scheduler
    remove_orphans: true
    wait: true
  when: not (scheduler_state.up_to_date | default(false))
"""

RETURN = r"""
project:
  description: The project's name, as compose gives it; empty when C(docker compose config) failed.
  returned: always
  type: str
  sample: dragonfly-scheduler
up_to_date:
  description: Whether C(docker compose up --wait --remove-orphans) would find nothing to do.
  returned: always
  type: bool
  sample: false
reasons:
  description: Why RV(up_to_date) is V(false); empty when it is V(true).
  returned: always
  type: list
  elements: str
  sample:
    - "service scheduler: the container was created from another configuration"
    - "service scheduler: the container is unhealthy"
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._compose_state import (
    PROJECT_LABEL, assess, expected_services, parse_hashes)


class DockerError(Exception):
    """A docker command failed: the project is then taken as not up to date."""


def docker(module, cli, args, check=True):
    rc, out, err = module.run_command([cli] + args, environ_update={'LC_ALL': 'C'})
    if check and rc != 0:
        raise DockerError(f"`docker {' '.join(args[:3])}` failed: {(err or out).strip()[:300]}")
    return rc, out


def inspect(module, cli, names):
    """`docker inspect` of containers, images and networks in one call: one object or None per name, in order (None:
    no such object). Without --type docker looks a name up among containers first, then images, networks and more; the
    caller checks that each object is of the kind it asked for."""
    if not names:
        return []
    rc, out = docker(module, cli, ['inspect', '--'] + names, check=False)
    if rc != 0:
        # One of them is missing (a container removed since, an image or a network that is gone): one call each.
        if len(names) == 1:
            return [None]
        return [found for name in names for found in inspect(module, cli, [name])]
    try:
        objects = json.loads(out)
    except ValueError:
        raise DockerError('`docker inspect` printed no JSON')
    if not isinstance(objects, list) or len(objects) != len(names):
        raise DockerError('`docker inspect` did not answer once per name')
    return objects


def project_state(module, cli, project_src):
    compose = ['compose', '--project-directory', project_src]
    try:
        config = json.loads(docker(module, cli, compose + ['config', '--format', 'json'])[1])
    except ValueError:
        raise DockerError('`docker compose config` printed no JSON')
    project = config.get('name') or ''
    hashes = parse_hashes(docker(module, cli, compose + ['config', '--hash', '*'])[1])
    services, reasons = expected_services(config, hashes)
    if reasons:
        return project, reasons
    ids = docker(module, cli, ['ps', '--all', '--quiet', '--no-trunc', '--filter', f'label={PROJECT_LABEL}={project}'])[1].split()
    images = sorted(set(service['image'] for service in services.values()))
    networks = sorted(set(network for service in services.values() for network in service['networks'] or []))
    objects = inspect(module, cli, ids + images + networks)
    containers = [item for item in objects[:len(ids)] if item and 'State' in item and 'Config' in item]
    if len(containers) < len(ids):
        return project, ['a container of the project was removed while it was read']
    image_ids = dict((name, item.get('Id')) for name, item in zip(images, objects[len(ids):len(ids) + len(images)])
                     if item and 'RepoTags' in item)
    network_ids = dict((name, item.get('Id')) for name, item in zip(networks, objects[len(ids) + len(images):])
                       if item and 'IPAM' in item)
    return project, assess(services, containers, image_ids, network_ids)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_src=dict(type='path', required=True),
            docker_cli=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    cli = module.params['docker_cli'] or module.get_bin_path('docker')
    if cli is None:
        module.exit_json(changed=False, project='', up_to_date=False, reasons=['the docker command is not installed'])
    project = ''
    try:
        project, reasons = project_state(module, cli, module.params['project_src'])
    except DockerError as exc:
        reasons = [str(exc)]
    module.exit_json(changed=False, project=project, up_to_date=not reasons, reasons=reasons)


if __name__ == '__main__':
    main()
