# vcdns — run `make help` for the targets.

include hack/versions.env

SHELL := /usr/bin/env bash -o pipefail
GO ?= go
BIN := $(CURDIR)/bin
export GOFLAGS ?= -buildvcs=false
# Tests run long end-to-end suites on real control planes.
TEST_TIMEOUT ?= 45m
TEST_FLAGS ?=

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Tools (pinned in hack/versions.env, built once into bin/)

KUBE_TOOLS := $(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kube-scheduler $(BIN)/kubelet $(BIN)/kube-proxy

.PHONY: tools
tools: $(BIN)/etcd $(KUBE_TOOLS) $(BIN)/kubectl ## Build etcd, the Kubernetes control plane and node binaries and kubectl (the tests and the demo deploy with it) from the pinned releases.

# The build script itself decides whether a rebuild is needed (version stamp in
# bin/.stamp), so these targets always ask it.
.PHONY: $(BIN)/etcd $(KUBE_TOOLS) $(BIN)/kubectl $(BIN)/controller-gen
$(BIN)/etcd $(KUBE_TOOLS) $(BIN)/kubectl $(BIN)/controller-gen:
	@hack/build-tool.sh $(notdir $@)

.PHONY: node-deps
node-deps: ## Install the Debian packages the landscape's nodes (containerd, runc, CNI plugins, iptables) and the lint (shellcheck) need, when missing.
	@hack/install-node-deps.sh

##@ CoreDNS (COREDNS_VERSION in hack/versions.env, patched with coredns-patch/)

.PHONY: coredns
coredns: ## Build bin/coredns (the pinned release plus coredns-patch/) and bin/coredns-upstream.
	@hack/build-coredns.sh

.PHONY: coredns-test
coredns-test: ## Run CoreDNS's own tests of the kubernetes plugin in the patched tree.
	@hack/build-coredns.sh test

##@ Development

.PHONY: build
build: ## Build the vcdns binaries into bin/ (syncer, vcdns-probe, vcdns-images, vcdns-demo).
	$(GO) build ./...
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/syncer ./cmd/syncer
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/vcdns-probe ./cmd/vcdns-probe
	$(GO) build -o $(BIN)/vcdns-images ./cmd/vcdns-images
	$(GO) build -o $(BIN)/vcdns-demo ./e2e/demo

IMAGES_DIR ?= $(CURDIR)/_output/images

.PHONY: images
images: node-deps coredns build $(BIN)/etcd ## Build the images (syncer, coredns, etcd, pause, probe) as tarballs in _output/images, without a container engine.
	$(BIN)/vcdns-images -bin $(BIN) -out $(IMAGES_DIR)

.PHONY: lint
lint: node-deps ## Check formatting (gofmt), run go vet, and shellcheck the scripts.
	@out=$$(find . -name '*.go' -not -path './bin/*' -not -path './_output/*' | xargs gofmt -l); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd hack && shellcheck -x *.sh ../.ci/run

.PHONY: generate
generate: $(BIN)/controller-gen ## Generate deepcopy code, CRDs (config/crd/bases) and RBAC (config/rbac/generated).
	$(call controller-gen,syncer/api/v1alpha1,config/crd/bases,config/rbac/generated)

# controller-gen writes deepcopy code into $(1), CRDs into $(2) and RBAC into $(3).
controller-gen = $(BIN)/controller-gen object:headerFile=hack/boilerplate.go.txt paths=./syncer/api/... output:object:dir=$(1) && \
	$(BIN)/controller-gen crd paths=./syncer/api/... output:crd:dir=$(2) && \
	$(BIN)/controller-gen rbac:roleName=vcdns-syncer paths=./syncer/... paths=./cmd/... output:rbac:dir=$(3)

.PHONY: verify
verify: $(BIN)/controller-gen ## Fail when go.mod/go.sum or generated files are stale.
	$(GO) mod tidy -diff
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(call controller-gen,$$tmp/api,$$tmp/crd,$$tmp/rbac) && \
	  diff -u syncer/api/v1alpha1/zz_generated.deepcopy.go $$tmp/api/zz_generated.deepcopy.go && \
	  diff -ru config/crd/bases $$tmp/crd && diff -ru config/rbac/generated $$tmp/rbac || \
	  { echo "generated files are stale: run 'make generate'" >&2; exit 1; }

##@ Demo

.PHONY: demo
demo: tools node-deps images ## Run the local landscape on real nodes (root), deploy vcdns from config/default, apply config/samples and check every flow from Pods (KEEP=1 leaves it running, _output/demo/landscape.env).
	$(BIN)/vcdns-demo $(if $(KEEP),--keep)

.PHONY: demo-kind
demo-kind: ## Run the kind demo (needs a container engine: not on the development machines; hack/kind-demo.sh --help).
	@hack/kind-demo.sh up

##@ Tests

.PHONY: test
test: tools node-deps images coredns-test lint verify ## Run every test that must pass: unit, integration and end to end (the node tests need root).
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

# Flags of vcdns-bench, e.g. BENCH_FLAGS='-scenarios dns' or
# BENCH_FLAGS='-syncer-arg=--workers-per-mcp=16' (see go run ./e2e/bench/cmd/vcdns-bench -h).
BENCH_FLAGS ?=

.PHONY: bench
bench: tools node-deps images ## Run the benchmarks on the local landscape: Go benchmarks, then vcdns-bench (table, _output/bench/results.json, latency CDF).
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...
	$(GO) run ./e2e/bench/cmd/vcdns-bench -out $(CURDIR)/_output/bench $(BENCH_FLAGS)

.PHONY: bench-smoke
bench-smoke: tools node-deps images ## Run every vcdns-bench scenario at a tiny scale (make test runs it too).
	$(GO) test -count=1 -run '^TestBenchSmoke$$' -v ./e2e/bench

.PHONY: clean
clean: ## Remove built binaries (the cached tools too) and outputs.
	rm -rf bin _output
