# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The manager role's generated TLS directory as tls_chain (which writes it on a first run) and tls_chain_info
    # (which judges it) both name it; the checks are plugins/module_utils/_tls_chain.py.
    DOCUMENTATION = r"""
options:
  path:
    description:
      - The directory that holds the files (C(ca.key), C(ca.csr), C(ca.crt), C(server.key), C(server.csr),
        C(server.crt)).
    type: path
    required: true
  ca_common_name:
    description:
      - The common name of the CA, its certificate's only subject attribute.
    type: str
    required: true
  common_name:
    description:
      - The common name of the server certificate, its only subject attribute.
    type: str
    required: true
  subject_alt_names:
    description:
      - The subject alternative names of the server certificate, in this order, each V(IP:address) or V(DNS:name), as
        given to M(community.crypto.openssl_csr)'s O(community.crypto.openssl_csr#module:subject_alt_name).
    type: list
    elements: str
    required: true
  owner:
    description:
      - Name or ID of the user that owns the directory and the keys.
    type: str
    default: root
  group:
    description:
      - Name or ID of the group of the directory and the keys.
    type: str
    default: root
"""
