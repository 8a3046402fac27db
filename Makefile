# DECNET build, test and tooling entry points. `make help` lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Tool versions, pinned here and nowhere else.
BUF_VERSION                  := v1.75.0
PROTOC_GEN_GO_VERSION        := v1.36.12
PROTOC_GEN_CONNECT_GO_VERSION := v1.21.1
GOLANGCI_LINT_VERSION        := v2.15.0

TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):$(PATH)
export GOFLAGS := -buildvcs=false

DATA_DIR ?= $(CURDIR)/.decnet-dev
GO_PACKAGES := ./...

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(TOOLS_BIN)/buf:
	GOBIN=$(TOOLS_BIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)

$(TOOLS_BIN)/protoc-gen-go:
	GOBIN=$(TOOLS_BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(TOOLS_BIN)/protoc-gen-connect-go:
	GOBIN=$(TOOLS_BIN) go install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT_GO_VERSION)

$(TOOLS_BIN)/golangci-lint:
	GOBIN=$(TOOLS_BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: tools
tools: $(TOOLS_BIN)/buf $(TOOLS_BIN)/protoc-gen-go $(TOOLS_BIN)/protoc-gen-connect-go ## Install the pinned code generators

ui/node_modules: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	@touch ui/node_modules

.PHONY: ui
ui: ui/node_modules ## Build the dashboard into ui/dist
	cd ui && npm run build

.PHONY: generate
generate: tools ui/node_modules ## Regenerate Go and TypeScript code from proto/
	buf lint
	buf generate
	buf generate --template ui/buf.gen.yaml
	PATH=$(TOOLS_BIN):$$PATH go generate ./controlplane/apidoc

.PHONY: generate-check
generate-check: generate ## Fail when the committed generated code is stale
	@git diff --exit-code -- gen ui/src/gen controlplane/apidoc/reference.json || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- gen ui/src/gen)" || { git status --porcelain -- gen ui/src/gen; echo "untracked generated files: run make generate and commit"; exit 1; }

.PHONY: breaking
breaking: tools ## Check protos against the latest v* tag (skipped until one exists)
	@tag=$$(git tag --list 'v*' --sort=-v:refname | head -n 1); \
	if [ -z "$$tag" ]; then echo "no v* tag yet: breaking check skipped"; \
	else buf breaking --against ".git#tag=$$tag"; fi

.PHONY: build
build: ui ## Build bin/decnet (with the dashboard) and bin/decnet-agent
	go build -tags uidist -o bin/decnet ./cmd/decnet
	go build -o bin/decnet-agent ./cmd/decnet-agent

.PHONY: build-go
build-go: ## Build both binaries without the dashboard (no Node needed)
	go build -o bin/decnet ./cmd/decnet
	go build -o bin/decnet-agent ./cmd/decnet-agent

.PHONY: run
run: build ## Run decnet dev: control plane, agent and decoys in one process
	bin/decnet dev --data-dir $(DATA_DIR)

.PHONY: test-deps
test-deps: ## Install the clients and daemons the tests use (Debian, as root)
	bash integration/setup.sh

.PHONY: ui-test
ui-test: ui/node_modules ## Typecheck the dashboard and run its unit tests
	cd ui && npm run typecheck && npm test

.PHONY: test
test: test-deps ui-test ui ## Run unit and integration tests (installs what they need)
	go vet $(GO_PACKAGES)
	go vet -tags integration $(GO_PACKAGES)
	go build -tags uidist -o bin/decnet ./cmd/decnet
	go build -o bin/decnet-agent ./cmd/decnet-agent
	DECNET_BIN_DIR=$(CURDIR)/bin go test -count=1 -tags integration -timeout 30m $(GO_PACKAGES)
	cd deploy/helm/chartcheck && go test -count=1 ./...

.PHONY: test-race
test-race: ## Run the unit tests under the race detector
	go test -count=1 -race $(GO_PACKAGES)

.PHONY: lint
lint: tools $(TOOLS_BIN)/golangci-lint breaking ## Run golangci-lint, buf lint and the breaking check
	golangci-lint run
	buf lint

.PHONY: bench
bench: build-go ## Run the benchmarks and the memory harness (results in docs/benchmarks.md)
	go test -run '^$$' -bench . -benchmem -count 5 $(GO_PACKAGES)
	DECNET_BIN_DIR=$(CURDIR)/bin go test -count=1 -v -tags 'integration bench' -run TestDevMemory -timeout 20m ./integration/
	go test -count=1 -v -tags 'integration bench' -timeout 30m ./integration/bench/
	go test -count=1 -tags bench -run '^$$' -bench Cluster -benchtime 3x ./controlplane/identity/

.PHONY: images
images: ## Build the control-plane and agent container images (needs a Docker engine)
	deploy/container/build-images.sh $(or $(VERSION),dev)

.PHONY: soak
soak: build-go ## Stop the control plane for 5 minutes under attack and check the agent's memory and delivery (about 15 minutes)
	DECNET_BIN_DIR=$(CURDIR)/bin go test -count=1 -v -tags 'integration soak' -run TestStalledServerSoak -timeout 40m ./integration/

.PHONY: clean
clean: ## Remove build output
	rm -rf bin ui/dist
