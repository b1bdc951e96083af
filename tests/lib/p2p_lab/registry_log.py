"""The test origin's registry as a witness: the requests it completed, read from its access log (logfmt lines of
distribution/distribution in the container's output)."""
import re
import subprocess
from urllib.parse import urlsplit

LOGFMT = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')


def completed_requests(container):
    """The registry container's completed requests, oldest first: dicts of their logfmt fields (http.request.method,
    http.response.status, http.response.written, ...) plus ``path``, the path of the request URI."""
    logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True, check=True)
    return parse_completed(logs.stdout + logs.stderr)


def parse_completed(text):
    """completed_requests of a registry log already read (`docker logs` on another host, for example)."""
    entries = []
    for line in text.splitlines():
        if 'msg="response completed"' in line:
            fields = {key: value.strip('"') for key, value in LOGFMT.findall(line)}
            fields["path"] = urlsplit(fields.get("http.request.uri", "")).path
            entries.append(fields)
    return entries


def blob_requests(entries, digests):
    """(digest, entry) of every request among ``entries`` for the blob of one of ``digests``, in order."""
    for entry in entries:
        digest = entry["path"].rsplit("/", 1)[-1]
        if "/blobs/" in entry["path"] and digest in digests:
            yield digest, entry
