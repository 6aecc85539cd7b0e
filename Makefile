# blindpack — see README.md.
#   make test    install what the tests need, start Redis + versitygw on loopback, run every test, stop them
#   make demo    one-command local run (embedded Redis, local directory storage)
#   make bench   per-page benchmarks
SHELL := /bin/bash
GO ?= go

.PHONY: all build test unit demo bench deps samples vet fmt clean

all: build

build:
	$(GO) build -o bin/blindpack ./cmd/blindpack

deps:
	deploy/local/install-deps.sh

# The whole suite against real services; with-services.sh stops them whatever happens.
test: deps
	$(GO) vet ./...
	deploy/local/with-services.sh $(GO) test -count=1 -timeout 20m ./...

# Fast tests only: what needs Redis or S3 is skipped.
unit:
	$(GO) test -count=1 ./...

demo: deps build
	bin/blindpack demo --out demo-out

samples:
	$(GO) run ./testdata/gen -out testdata/samples

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./pipeline/...

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out
