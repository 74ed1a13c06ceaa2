# cognito-email-otp. The two commands a newcomer needs:
#   make run    start the whole system locally (otp-local) and print where to look
#   make test   vet, lint and test everything, installing what the tests need
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin
LAMBDAS   := define create verify mailer
# Lambda builds as AWS SAM's provided.al2023 runtime expects: one static,
# stripped bootstrap per function, no RPC shim.
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
E2E_DIR   := deploy/local/e2e

pkg_define := ./triggers/define
pkg_create := ./triggers/create
pkg_verify := ./triggers/verify
pkg_mailer := ./mailer/function

.PHONY: help
help: ## list targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: build
build: $(addprefix $(BIN)/lambda/,$(addsuffix /bootstrap,$(LAMBDAS))) ## build the four Lambda bootstraps (linux/arm64)

$(BIN)/lambda/%/bootstrap: FORCE
	@mkdir -p $(@D)
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $@ $(pkg_$*)

.PHONY: FORCE
FORCE:

.PHONY: e2e-deps
e2e-deps: $(E2E_DIR)/node_modules/.package-lock.json ## install the npm packages of the node and browser tests
$(E2E_DIR)/node_modules/.package-lock.json: $(E2E_DIR)/package.json $(E2E_DIR)/package-lock.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: chromium
chromium: ## install Debian's chromium if it is missing
	@scripts/ensure-chromium.sh

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './$(E2E_DIR)/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

.PHONY: test
test: e2e-deps chromium lint ## everything CI runs: lint, unit, protocol and browser tests
	OTP_E2E=require $(GO) test -race -count=1 ./...
