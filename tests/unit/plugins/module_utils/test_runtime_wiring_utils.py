# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wiring's bookkeeping: state.json in the format earlier releases wrote, and restart or reload for dockerd (the
module's tests in tests/unit/plugins/modules/test_runtime_wiring.py run the whole wiring)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_wiring import RuntimeWiringError, State, needs_restart


@pytest.mark.parametrize('text, restart', [('{"registry-mirrors": []}', False), ('{"debug": true}', True), ('', True),
                                           ('  \n', True), ('not json', True)])
def test_docker_needs_a_restart_without_registry_mirrors(text, restart):
    assert needs_restart(text.encode()) is restart


def test_state_json_format(tmp_path):
    state = State(str(tmp_path))
    assert state.empty()
    state.owner = 'p2p.dragonfly.peer, instance peer'
    state.dirs['/etc/containerd/certs.d/docker.io'] = dict(created=True)
    # As to_nice_json(indent=2) wrote it: sorted keys, two spaces, a final newline.
    assert state.text() == ('{\n  "dirs": {\n    "/etc/containerd/certs.d/docker.io": {\n      "created": true\n    }\n  },\n'
                            '  "entries": {},\n  "owner": "p2p.dragonfly.peer, instance peer"\n}\n')


def test_a_state_json_of_something_else_is_refused(tmp_path):
    (tmp_path / 'state.json').write_text(json.dumps(['x']))
    with pytest.raises(RuntimeWiringError, match='is not the state file this wiring writes'):
        State(str(tmp_path))
