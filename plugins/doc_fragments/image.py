# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # How the modules that resolve an image reference spell Docker Hub in its URLs; the argument spec is
    # plugins/module_utils/_preheat_options.py content_argspec(), the check _image_reference.validate_registry_host.
    DOCUMENTATION = r"""
options:
  docker_hub_host:
    description:
      - The host, V(host) or V(host:port) without scheme or path, that the manifest and blob URLs of a Docker Hub image
        use. It applies to O(image) references that normalise to Docker Hub (V(alpine), V(library/alpine:3.20),
        V(docker.io/team/app:1.0), V(index.docker.io/team/app:1.0)); every other image, a manifest URL given in O(url)
        and file URLs are taken as given.
      - The host is part of every blob URL and so of every task ID. A pull finds the preheated content only when the peers
        send Docker Hub's blobs to Dragonfly under the same host.
      - V(registry-1.docker.io) is what the peer and seed peer roles of this collection configure.
      - V(index.docker.io) is what upstream's helm chart and C(dfinit) configure as the peers' registry mirror by default.
      - V(docker.io) is what C(dfdaemon) uses when a containerd C(hosts.toml) sends no C(X-Dragonfly-Registry) header
        (it takes the host from containerd's C(?ns=docker.io)).
      - The module also reads the manifest from this host.
    type: str
    default: registry-1.docker.io
"""
