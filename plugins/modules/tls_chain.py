#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: tls_chain

short_description: Generate a new CA and server certificate in one call, where there is none yet

version_added: 0.1.0

description:
  - >-
    Generates, in a directory that holds none of them, the six files of the role p2p.dragonfly.manager's TLS
    directory: an ECC secp256r1 CA key (C(ca.key)), its signing request (C(ca.csr)) and self-signed certificate
    (C(ca.crt)), a server key (C(server.key)), its signing request (C(server.csr)) and the server certificate signed
    by the CA (C(server.crt)). One module call instead of the six community.crypto tasks of a first run.
  - >-
    They are written as those tasks write them (M(community.crypto.openssl_privatekey),
    M(community.crypto.openssl_csr), M(community.crypto.x509_certificate) with the C(selfsigned) and C(ownca)
    providers, as the role calls them), so that those tasks, and M(p2p.dragonfly.tls_chain_info), find nothing to
    change afterwards: the CA's request with the critical basic constraints C(CA:TRUE, pathlen:0) and the critical
    key usage C(keyCertSign, cRLSign); the server's with O(subject_alt_names) and the extended key usage
    C(serverAuth); both subjects only the common name; SHA-256 signatures; the certificates with their request's
    extensions, a subject key identifier and (the server's) an authority key identifier.
  - >-
    Never replaces anything. When any of the six files exists, nothing is written and RV(generated) is V(false): the
    community.crypto tasks then decide what to renew, as they would without this module.
  - >-
    Keys (mode C(0600), O(owner) and O(group)) never leave the host; the requests and certificates get mode C(0644).
    The directory is created when it is missing, and gets mode C(0700), O(owner) and O(group) when the files are
    written.
    Each file is written through a temporary file renamed into place; when a write fails, the files written before it
    are removed again.

extends_documentation_fragment:
  - p2p.dragonfly.attributes
  - p2p.dragonfly.tls_chain

attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is generated or written; RV(generated) says whether a real run would generate the files,
        and RV(certificate) and RV(ca_certificate) are empty then.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A second run finds the files and changes nothing.
  platform:
    description: Target operating systems the module runs on.
    support: full
    platforms: posix

options:
  ca_valid_days:
    description:
      - How many days the CA certificate is valid from now.
    type: int
    default: 3650
  valid_days:
    description:
      - How many days the server certificate is valid from now.
    type: int
    default: 825

requirements:
  - The Python library cryptography 3.3 or newer on the target.

seealso:
  - module: p2p.dragonfly.tls_chain_info
  - module: community.crypto.x509_certificate

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Generate the CA and the server certificate where there are none yet
  p2p.dragonfly.tls_chain:
    path: /opt/dragonfly/manager/tls
    ca_common_name: p2p.dragonfly manager CA manager-1
    common_name: manager-1
    subject_alt_names: ["IP:192.0.2.10", "IP:127.0.0.1", "DNS:localhost", "DNS:manager-1"]
  register: chain

- name: Renew what needs it, the usual way, where the files were there already
  ansible.builtin.include_tasks: certificates.yml
  when: not chain.generated
"""

RETURN = r"""
generated:
  description: Whether the six files were generated (in check mode, would be).
  returned: always
  type: bool
  sample: true
found:
  description: Which of the six files were there already (nothing was generated then).
  returned: always
  type: list
  elements: str
  sample: []
certificate:
  description: The text of the generated C(server.crt); empty when nothing was generated, and in check mode.
  returned: always
  type: str
ca_certificate:
  description: The text of the generated C(ca.crt); empty when nothing was generated, and in check mode.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils import _tls_chain, _tls_generate


def main():
    module = AnsibleModule(
        argument_spec=dict(_tls_chain.chain_argspec(),
                           ca_valid_days=dict(type='int', default=3650),
                           valid_days=dict(type='int', default=825)),
        supports_check_mode=True,
    )
    params = module.params
    for name in ('ca_valid_days', 'valid_days'):
        if params[name] < 1:
            module.fail_json(msg=f'{name} must be 1 or more, not {params[name]}')
    problem = _tls_chain.cryptography_problem()
    if problem is not None:
        module.fail_json(msg=f'{problem} on the host; install cryptography 3.3 or newer there '
                             '(Debian: python3-cryptography)')
    try:
        uid, gid = _tls_chain.principal_id('owner', params['owner']), _tls_chain.principal_id('group', params['group'])
        names = _tls_generate.general_names(params['subject_alt_names'])
    except _tls_chain.TLSInputError as exc:
        module.fail_json(msg=str(exc))
    found = _tls_generate.existing(params['path'])
    if found or module.check_mode:
        module.exit_json(changed=not found, generated=not found, found=found, certificate='', ca_certificate='')
    chain = _tls_generate.make_chain(params['ca_common_name'], params['common_name'], names,
                                     params['ca_valid_days'], params['valid_days'])
    try:
        _tls_generate.write_chain(params['path'], chain, uid, gid)
    except OSError as exc:
        module.fail_json(msg=f'cannot write the TLS files in {params["path"]}: {exc.strerror or exc}; the files '
                             'written before were removed again', generated=False, found=[])
    module.exit_json(changed=True, generated=True, found=[], certificate=chain['server.crt'].decode('ascii'),
                     ca_certificate=chain['ca.crt'].decode('ascii'))


if __name__ == '__main__':
    main()
