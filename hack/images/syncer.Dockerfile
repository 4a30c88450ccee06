# syntax=docker/dockerfile:1
# The syncer image: cmd/syncer built in a Go stage, run from a distroless static base
# as the unprivileged user 65532. Build from the repository root:
#
#   docker build -f hack/images/syncer.Dockerfile -t ghcr.io/vcdns/syncer:dev .
#
# GO_VERSION defaults to the go directive of go.mod (hack/kind-demo.sh passes it).
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd/ cmd/
COPY syncer/ syncer/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/syncer ./cmd/syncer

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/syncer /syncer
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/syncer"]
