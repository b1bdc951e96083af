# dragonflyoss/manager built from the Go module d7y.io/dragonfly/v2 at the pinned tag (see build.sh).
# Same layout as upstream's build/images/manager/Dockerfile, on a Debian base instead of alpine
# (no registry is reachable here). The web console is not built (manager/dist holds only a
# placeholder in the module); the REST and gRPC APIs are complete.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
WORKDIR /opt/dragonfly
ENV PATH=/opt/dragonfly/bin:$PATH
RUN mkdir -p /opt/dragonfly/bin/manager/console && echo "hosts: files dns" > /etc/nsswitch.conf
COPY manager /opt/dragonfly/bin/server
COPY grpc_health_probe /bin/grpc_health_probe
EXPOSE 8080 65003
ENTRYPOINT ["/opt/dragonfly/bin/server"]
