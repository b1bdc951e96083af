# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which entry of the preheat module's option credentials a URL matches (the module's tests cover the rest)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._credentials import _entry_for_registry, _entry_for_url


@pytest.mark.parametrize('url_prefix, url, matches', [
    ('https://files.test/models', 'https://files.test/models', True),
    ('https://files.test/models', 'https://files.test/models/a.bin', True),
    ('https://files.test/models', 'https://files.test/models-old/a.bin', False),
    ('https://files.test/models/', 'https://files.test/models/a.bin?sig=1', True),
    ('https://files.test/models/', 'https://files.test/models', False),
    ('https://files.test', 'https://files.test/anything', True),
    ('https://files.test/', 'https://FILES.test:443/anything', True),
    ('https://files.test/', 'http://files.test/anything', False),
    ('https://files.test/', 'https://files.test:8443/anything', False),
    ('https://files.test/', 'https://files.test.evil.test/anything', False),
])
def test_url_prefix_matches_origin_and_whole_segments(url_prefix, url, matches):
    assert (_entry_for_url([dict(url_prefix=url_prefix)], url) == 0) is matches


def test_longest_url_prefix_wins():
    entries = [dict(registry='files.test'), dict(url_prefix='https://files.test/'),
               dict(url_prefix='https://files.test/models/large'), dict(url_prefix='https://files.test/models')]
    assert _entry_for_url(entries, 'https://files.test/models/large/a.bin') == 2
    assert _entry_for_url(entries, 'https://files.test/models/small/a.bin') == 3
    assert _entry_for_url(entries, 'https://files.test/data/a.bin') == 1


def test_registry_entry_exact_host_before_docker_hub_alias():
    hub, mirror = dict(registry='docker.io'), dict(registry='hub-mirror.test:5000')
    assert _entry_for_registry([hub, mirror], 'hub-mirror.test:5000', docker_hub=True) is mirror
    assert _entry_for_registry([hub, mirror], 'index.docker.io', docker_hub=True) is hub
    assert _entry_for_registry([hub], 'registry.test', docker_hub=False) is None
    assert _entry_for_registry([dict(registry='Registry.Test:5000')], 'registry.test:5000', docker_hub=False) is not None
