"""What proves that a pull went through Dragonfly and not to the origin: the origin registry's blob requests (its
access log, p2p_lab.registry_log) and where the puller's dfdaemon says each piece came from (its log at debug level).

What the origin sees (dragonfly-client resource/task.rs download_started, backend http.rs stat): a peer that starts a
task it does not hold probes the origin once per blob, even when every piece then comes from the seed peer: client
v1.4.0 with a GET whose body it drops after the headers, v1.4.2 and later with a GET of `Range: bytes=0-0` (206, one
byte). Piece downloads from the origin are ranged GETs of whole pieces (206, more than one byte).
"""
import re
import subprocess

from p2p_lab.registry_log import blob_requests as blob_entries


def blob_requests(entries, digests):
    """digest -> [(method, status, bytes written, user agent)] of the blob requests among a registry's entries."""
    found = {digest: [] for digest in digests}
    for digest, entry in blob_entries(entries, found):
        found[digest].append((entry["http.request.method"], int(entry["http.response.status"]),
                              int(entry.get("http.response.written", 0)), entry.get("http.request.useragent")))
    return found


def piece_downloads(requests):
    """The requests among blob_requests' that downloaded pieces: ranged (206) and more than the probe's byte."""
    return [request for request in requests if request[1] == 206 and request[2] > 1]


def piece_sources(container, task_id):
    """Where the pieces of a task came from, per the dfdaemon log of ``container``: {"parent": n, "source": n}."""
    logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True, errors="replace",
                          check=True)
    text = logs.stdout + logs.stderr
    return {kind: len(re.findall(r"finished piece %s-\d+ from %s" % (task_id, kind), text))
            for kind in ("parent", "source")}
