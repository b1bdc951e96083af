"""Puts the test library (tests/lib: the lab definition and the helpers, package p2p_lab) on sys.path, for the
benchmarks, which run as scripts (python benchmarks/NAME.py). Imported for that effect alone, before p2p_lab."""
import os
import sys

LIB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "lib")
if LIB not in sys.path:
    sys.path.insert(0, LIB)
