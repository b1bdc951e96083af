# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Connection to the Dragonfly manager REST API; the argument spec is
    # plugins/module_utils/_api.py manager_argument_spec(), which manager_argspec_ex() hands to the modules.
    DOCUMENTATION = r"""
options:
  manager_url:
    description:
      - Base URL of the Dragonfly manager REST API, V(http://host[:port]) or V(https://host[:port]) without a path, for example
        V(https://manager.example.com:8080). The manager role of this collection serves it over TLS on port V(8080)
        by default.
      - If not set, the value of the E(DRAGONFLY_MANAGER_URL) environment variable (on the host the module runs on) is used.
      - The requests are sent from the host the module runs on; use C(delegate_to) to send them from elsewhere.
    type: str
    required: true
  token:
    description:
      - Personal access token for the manager's open API (C(/oapi/v1)), sent as a bearer token in the C(Authorization) header.
      - It needs the scope V(job) for jobs. M(p2p.dragonfly.personal_access_token) creates one.
      - If not set, the value of the E(DRAGONFLY_TOKEN) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the manager's TLS certificate when O(manager_url) uses V(https).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file, on the host the module runs on, of the CA that signed the manager's TLS certificate, for a manager whose
        certificate public CAs did not sign. The manager role of this collection generates one and keeps it on the
        manager host as C(<dragonfly_manager_dir>/tls/ca.crt).
      - If not set, the value of the E(DRAGONFLY_MANAGER_CA_PATH) environment variable is used; if that is not set either,
        the system's trusted CAs.
    type: path
  timeout:
    description:
      - Seconds to wait for one HTTP request to the manager.
    type: int
    default: 30
notes:
  - Use C(module_defaults) with the group C(group/p2p.dragonfly.dragonfly) to set O(manager_url) and O(token) once for every
    module of the collection.
  - Answers HTTP 429 (rate limited) are retried three times with back-off (2, 4 and 8 seconds, or what C(Retry-After) says);
    GET requests that fail to connect are retried twice.
"""

    # Signing in as a manager user (or reusing a session); the argument spec is
    # plugins/module_utils/_api.py admin_argument_spec(), with its rule in manager_argspec_ex(admin=True).
    ADMIN = r"""
options:
  admin_user:
    description:
      - Manager user to sign in as with O(admin_password). The calls of this module need the C(root) role.
    type: str
    default: root
  admin_password:
    description:
      - Password of O(admin_user).
      - Required unless O(jwt) is set. With O(jwt) it is only used when the manager refuses that session (expired, or the
        manager's JWT key changed).
    type: str
  jwt:
    description:
      - A session token (JWT) of a manager user with the C(root) role, for example
        RV(p2p.dragonfly.user_password#module:jwt). Used instead of signing in, which saves seconds on Dragonfly managers
        v2.5.0 and v2.5.1.
      - Preferred over O(admin_password) when both are set. If the manager refuses the session, the module signs in with
        O(admin_user) and O(admin_password) when set, and fails otherwise.
    type: str
"""
