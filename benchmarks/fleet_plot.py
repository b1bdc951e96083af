# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plot of benchmarks/fleet.py's results: wall time and origin bytes against K, one line per mode.

    PYTHON benchmarks/fleet_plot.py RESULTS.json PNG

PYTHON has matplotlib (benchmarks/requirements-plot.txt, in a venv of its own: see benchmarks/fleet.py); nothing
else beyond the standard library, so that venv needs nothing of the project's.
"""
import json
import sys

import matplotlib  # pylint: disable=import-error
from matplotlib import pyplot  # pylint: disable=import-error

MODES = ("direct", "preheated", "cold")
MIB = 1024 * 1024


def plot(results_path, png_path):
    matplotlib.use("Agg")
    with open(results_path) as handle:
        results = json.load(handle)
    image = results["rows"][0]["image_bytes"]
    figure, (time_axis, bytes_axis) = pyplot.subplots(1, 2, figsize=(11, 4.2))
    for mode, marker in zip(MODES, "osd"):
        rows = sorted((row for row in results["rows"] if row["mode"] == mode), key=lambda row: row["k"])
        if not rows:
            continue
        ks = [row["k"] for row in rows]
        time_axis.plot(ks, [row["wall_s"] for row in rows], marker=marker, label=mode)
        # The preheat's bytes count: they are what the origin pays for the preheated mode's pulls.
        bytes_axis.plot(ks, [(row["origin_bytes"] + row.get("preheat_origin_bytes", 0)) / image for row in rows],
                        marker=marker, label=mode + (" (preheat + pulls)" if mode == "preheated" else ""))
    for axis, label in ((time_axis, "wall time until the last peer has the image (s)"),
                        (bytes_axis, "origin blob bytes sent (x image size)")):
        axis.set_xscale("log", base=2)
        axis.set_xticks(results["ks"], [str(k) for k in results["ks"]])
        axis.set_xlabel("K peers pulling at once")
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend()
    figure.suptitle("%s (%.0f MiB), origin egress %s; fleet lab, %s" % (
        results["image"], image / MIB, results["rate"], results["date"]))
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    plot(sys.argv[1], sys.argv[2])
