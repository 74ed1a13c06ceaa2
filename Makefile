# cognito-email-otp. The two commands a newcomer needs:
#   make run    start the whole system locally (otp-local) and print where to look
#   make test   lint and test everything, installing what the tests need
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
BIN     := bin
LAMBDAS := define create verify mailer rotate tokens sender feedback
# Lambda builds as AWS SAM's provided.al2023 runtime expects: one static,
# stripped bootstrap per function, without the RPC shim.
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

pkg_define := ./triggers/define
pkg_create := ./triggers/create
pkg_verify := ./triggers/verify
pkg_mailer := ./mailer/function
pkg_rotate := ./triggers/rotate
pkg_tokens := ./triggers/tokens
pkg_sender := ./triggers/sender/function
pkg_feedback := ./mailer/feedback/function

E2E_DIR := deploy/local/e2e
DYNAMO_DIR := deploy/local/dynamolocal/node
UI_DIR  := deploy/local/web/ui
UI_JS   := deploy/local/web/dist/app.js
GO_SRC  := $(shell find . -name '*.go' -not -path '*/node_modules/*' 2>/dev/null)
# The mailer embeds the compiled bundle; otp-local and otpctl embed the sets.
TEMPLATE_SRC := $(shell find templates/sets -type f 2>/dev/null) templates/compiled/embedded.bundle.json

.PHONY: help
help: ## list targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

## --- run --------------------------------------------------------------------

.PHONY: run
run: $(BIN)/otp-local $(BIN)/otpctl dynamodb-deps ## start otp-local on 127.0.0.1:7070 with the demo seed (Ctrl-C stops it)
	$(BIN)/otp-local --data-dir .otp-local --publish-sets acme,globex

$(BIN)/otp-local: $(GO_SRC) $(TEMPLATE_SRC) $(UI_JS) go.mod go.sum
	$(GO) build -o $@ ./deploy/local

$(BIN)/otpctl: $(GO_SRC) $(TEMPLATE_SRC) go.mod go.sum
	$(GO) build -o $@ ./mailer/otpctl

.PHONY: ui
ui: $(UI_JS) ## build the sign-in page (Amplify v6, esbuild) that otp-local embeds

$(UI_JS): $(wildcard $(UI_DIR)/src/*.js) $(UI_DIR)/node_modules/.package-lock.json
	cd $(UI_DIR) && npm run --silent build

$(UI_DIR)/node_modules/.package-lock.json: $(UI_DIR)/package.json $(UI_DIR)/package-lock.json
	cd $(UI_DIR) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: dynamodb-deps
dynamodb-deps: $(DYNAMO_DIR)/node_modules/.package-lock.json ## install dynalite, otp-local's DynamoDB (npm)

$(DYNAMO_DIR)/node_modules/.package-lock.json: $(DYNAMO_DIR)/package.json $(DYNAMO_DIR)/package-lock.json
	cd $(DYNAMO_DIR) && npm ci --no-audit --no-fund
	@touch $@

## --- build and deploy -------------------------------------------------------

.PHONY: build
build: $(addprefix $(BIN)/lambda/,$(addsuffix /bootstrap,$(LAMBDAS))) $(BIN)/otp-local $(BIN)/otpctl ## build the Lambda bootstraps (linux/arm64), otp-local and otpctl

$(BIN)/lambda/%/bootstrap: $(GO_SRC) $(TEMPLATE_SRC) go.mod go.sum
	@mkdir -p $(@D)
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $@ $(pkg_$*)

# The same functions built for this machine, for otp-local --functions
# and the benchmarks that measure the real binaries' start-up and memory.
HOST_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
.PHONY: host-functions
host-functions: $(addprefix $(BIN)/host/,$(addsuffix /bootstrap,$(LAMBDAS))) ## build the Lambda binaries for this machine (otp-local --functions bin/host)

$(BIN)/host/%/bootstrap: $(GO_SRC) $(TEMPLATE_SRC) go.mod go.sum
	@mkdir -p $(@D)
	CGO_ENABLED=0 $(GO) build $(HOST_FLAGS) -o $@ $(pkg_$*)

.PHONY: bench
bench: e2e-deps dynamodb-deps package ## run the benchmarks and the end-to-end load, regenerate docs/PERFORMANCE.md (about 10 minutes)
	scripts/bench.sh

.PHONY: generate
generate: ## regenerate templates/compiled/embedded.bundle.json from templates/sets (after editing a set)
	$(GO) generate ./templates/...

.PHONY: package
package: $(addprefix $(BIN)/lambda/,$(addsuffix /bootstrap,$(LAMBDAS))) ## build what deploy/template.yaml deploys; then: sam deploy --guided --template-file deploy/template.yaml
	@ls -l $(BIN)/lambda/*/bootstrap

## --- test -------------------------------------------------------------------

.PHONY: e2e-deps
e2e-deps: $(E2E_DIR)/node_modules/.package-lock.json ## install the npm packages of the node and browser tests
$(E2E_DIR)/node_modules/.package-lock.json: $(E2E_DIR)/package.json $(E2E_DIR)/package-lock.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund
	@touch $@

.PHONY: chromium
chromium: ## install Debian's chromium if it is missing (browser tests, previews)
	@scripts/ensure-chromium.sh

.PHONY: awscli
awscli: ## install Debian's awscli if /usr/bin/aws is missing (SQS Query-protocol test)
	@scripts/ensure-awscli.sh

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@unformatted=$$(gofmt -l $(GO_SRC)); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

.PHONY: check-templates
check-templates: ## run the template checker over the embedded sets (must pass) and the broken test set (must fail)
	$(GO) run ./mailer/otpctl templates check
	@out=$$($(GO) run ./mailer/otpctl templates check templates/testdata/broken 2>&1) && { echo "$$out"; echo "the broken set passed the checker"; exit 1; }; \
	  echo "$$out"; grep -q 'missing key' <<<"$$out" && grep -q 'unknown placeholder' <<<"$$out"

.PHONY: test
test: e2e-deps dynamodb-deps chromium awscli ui lint check-templates ## everything CI runs: lint, template checks, unit, protocol, browser and reliability tests, a short fuzz
	OTP_E2E=require $(GO) test -race -count=1 -timeout 25m $$($(GO) list ./... | grep -v /deploy/local/reliability)
	@# The reliability suite loads the whole machine on purpose (thousands of
	@# sign-ins, killed processes) and holds every call to AWS-like deadlines;
	@# it runs alone and without the race detector, whose 5-10x slowdown would
	@# measure the detector, not the system.
	OTP_E2E=require $(GO) test -count=1 -timeout 15m ./deploy/local/reliability
	FUZZ_TIME=$(FUZZ_TIME) scripts/fuzz.sh

FUZZ_TIME ?= 5s
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZ_TIME each (default 5s; try FUZZ_TIME=5m)
	FUZZ_TIME=$(FUZZ_TIME) scripts/fuzz.sh

## --- docs and measurements -------------------------------------------------

.PHONY: previews
previews: chromium ## write every template set x locale to build/previews, with screenshots
	scripts/previews.sh

.PHONY: screenshots
screenshots: e2e-deps dynamodb-deps chromium ui ## refresh the README's sign-in and ops screenshots in docs/img
	OTP_E2E=require UPDATE_SCREENSHOTS=1 $(GO) test -count=1 -run 'TestBrowserSignIn|TestBrowserOps' ./deploy/local/otplocal

.PHONY: clean
clean: ## remove build outputs and otp-local's data
	rm -rf $(BIN) build .otp-local deploy/local/web/dist/app.js deploy/local/web/dist/app.js.map
