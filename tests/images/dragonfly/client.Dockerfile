# dragonflyoss/client built from the crate dragonfly-client at the pinned version (see build.sh).
# Same layout as upstream's ci/Dockerfile: Debian bookworm, binaries in /usr/local/bin,
# grpc_health_probe at /bin, entrypoint dfdaemon.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY dfdaemon dfget dfctl /usr/local/bin/
COPY grpc_health_probe /bin/grpc_health_probe
ENTRYPOINT ["/usr/local/bin/dfdaemon"]
