# dragonflyoss/scheduler built from the Go module d7y.io/dragonfly/v2 at the pinned tag (see build.sh).
# Same layout as upstream's build/images/scheduler/Dockerfile, on a Debian base.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ENV PATH=/opt/dragonfly/bin:$PATH
RUN echo "hosts: files dns" > /etc/nsswitch.conf
COPY scheduler /opt/dragonfly/bin/scheduler
COPY grpc_health_probe /bin/grpc_health_probe
EXPOSE 8002
ENTRYPOINT ["/opt/dragonfly/bin/scheduler"]
