# -*- coding: utf-8 -*-

# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The attribute descriptions every module shares; each module states its own support and details.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # Modules that only read the host they run on (the *_info modules of the roles' converge checks).
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing; it runs and answers the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
  platform:
    description: Target operating systems the module runs on.
    support: full
    platforms: posix
"""

    ACTIONGROUP_DRAGONFLY = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/p2p.dragonfly.dragonfly) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - p2p.dragonfly.dragonfly
"""
