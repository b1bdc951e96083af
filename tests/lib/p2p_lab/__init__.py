"""The test library of p2p.dragonfly: one lab definition and one set of helpers for smoke, e2e, the benchmarks and
the main job (molecule reads the lab definition, tests/lib/lab.yml, itself).

    lab            the lab: network, origin, cache paths, the stacks (tests/lib/lab.yml and their inventories)
    roles          the roles' defaults and release sets
    manager        a client of the manager's REST API (sign-in with the v2.5.x retry)
    origin         the test content and the test origin serving it
    registry_log   the origin registry's access log
    containerd     a private containerd to pull with
    files          sha256 of a file, digest of a tree
    collection     this checkout as p2p.dragonfly for the benchmarks

tests/lib is on PYTHONPATH for the smoke and e2e gates (scripts/test.sh); the benchmarks put it there themselves
(benchmarks/testlib.py). Importing this package imports nothing else: files needs the standard library only.
"""
