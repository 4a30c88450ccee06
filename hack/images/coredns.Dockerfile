# syntax=docker/dockerfile:1
# The patched CoreDNS (the pinned release plus coredns-patch/), built by `make coredns`
# in a Go stage exactly as on a development machine, run from a distroless static base
# as the unprivileged user 65532. The binary gets the file capability to bind port 53,
# so the tenant DNS the syncer renders (port 53, capabilities: drop ALL, add
# NET_BIND_SERVICE) runs without root; the central DNS uses port 1053 and needs none.
# Build from the repository root:
#
#   docker build -f hack/images/coredns.Dockerfile -t ghcr.io/vcdns/coredns:v1.14.7-vcdns .
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV GOTOOLCHAIN=local
COPY Makefile ./
COPY hack/ hack/
COPY coredns-patch/ coredns-patch/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    make coredns && setcap cap_net_bind_service=+ep bin/coredns

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/coredns /coredns
USER 65532:65532
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
