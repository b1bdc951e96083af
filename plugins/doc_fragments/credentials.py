# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Option credentials of the modules that read image manifests (preheat, evict); the argument spec is
    # plugins/module_utils/_credentials.py credentials_argspec(), the checks check_credentials(), the choice choose().
    # Each module documents its return value credentials_used itself.
    DOCUMENTATION = r"""
options:
  credentials:
    description:
      - Credentials per registry and per file location, so that a playbook can pass one list to all its calls
        (preheats and evictions alike); the module picks the entry that applies to the content of this call and
        returns it in RV(credentials_used). Every entry is checked, whether it applies or not.
      - B(Images.) The entry whose O(credentials[].registry) equals the registry of O(image) (or the host of O(url)).
        An entry for V(docker.io) (or V(registry-1.docker.io), V(index.docker.io)) applies to every Docker Hub image,
        whatever O(docker_hub_host) says. Its username and password are used as O(registry_username) and
        O(registry_password) would be, its CA as O(registry_ca_path). Those options, when set, win over the entry.
      - B(Files.) M(p2p.dragonfly.preheat) takes the entry whose O(credentials[].url_prefix) is the longest prefix of
        the URL. Every URL of one call must match the same entry, or all none, since one preheat job carries one set of
        headers. The username and password become a basic C(Authorization) header in the job's headers, which the
        manager forwards to the seed peers. An C(Authorization) given in O(headers) wins over the entry.
      - M(p2p.dragonfly.evict) ignores O(credentials[].url_prefix) entries, since it reads no file and the task ID of a
        file does not depend on how it was downloaded.
    type: list
    elements: dict
    suboptions:
      registry:
        description:
          - An image registry as image names spell it, V(host) or V(host:port), for example V(registry.example.com:5000)
            or V(docker.io).
          - Set exactly one of O(credentials[].registry) and O(credentials[].url_prefix).
        type: str
      url_prefix:
        description:
          - An http(s) URL prefix of files, for example V(https://files.example.com/models/). The scheme, host and port
            must be equal, and the path matches whole segments (V(/models) matches V(/models/a.bin), not
            V(/models-old/a.bin)).
          - Set exactly one of O(credentials[].registry) and O(credentials[].url_prefix).
        type: str
      username:
        description:
          - User name for the registry or the files.
        type: str
      password:
        description:
          - Password of O(credentials[].username).
          - M(p2p.dragonfly.preheat) sends it to the manager. For images the manager stores it in the job's C(args),
            for files the C(Authorization) header in the job's C(headers); both are readable by every manager user.
            Prefer a read-only token. M(p2p.dragonfly.evict) only reads manifests with it, from the host it runs on.
        type: str
      ca_path:
        description:
          - A PEM file of CA certificates to verify the registry with when the module reads the manifest, as
            O(registry_ca_path).
          - Refused with O(credentials[].url_prefix), because the seed peers do not verify the certificates of file origins (the
            Dragonfly client downloads back-to-source with a TLS verifier that accepts any certificate), and the modules
            do not read the files.
        type: path
"""
