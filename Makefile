# blindpack — see README.md.
#   make test    install what the tests need, start Redis + versitygw on loopback, run every test, stop them
#   make demo    one-command local run (embedded Redis, local directory storage; the development build)
#   make bench   blindpack against a reference tool pipeline and the libjpeg-turbo floor (and typed PDFs, the OCR gate), then per-page benchmarks
#   make fuzz    every fuzz target of the untrusted-input parsers, 2 minutes each (not in CI)
#   make load    scale-out: submissions through a private Redis + versitygw with 1, 2, 4 worker processes,
#                then a 10,000-applicant campaign rehearsal
#   make faults  kill -9 of workers, Redis restart and Sentinel failover, S3 outage, a SeaweedFS volume
#                server lost, duplicate runs, a webhook receiver down 2 min; prints the fault table
SHELL := /bin/bash
GO ?= go

.PHONY: all build build-dev test unit demo bench calibrate fuzz load faults deps deps-demo samples vet fmt clean

all: build

# The production binary: no development commands (demo, bench, calibrate), none of the test
# generators they link. deploy/Dockerfile builds the same.
build:
	$(GO) build -o bin/blindpack ./cmd/blindpack

# The development binary: the production one plus demo, bench and calibrate (-tags dev).
build-dev:
	$(GO) build -tags dev -o bin/blindpack-dev ./cmd/blindpack

# What the tests need (Redis, the independent tools, Chromium, Tesseract, versitygw, ...).
deps:
	deploy/local/install-deps.sh test

# What the demo needs: the CJK font and the libjpeg-turbo headers, nothing else.
deps-demo:
	deploy/local/install-deps.sh demo

# The whole suite against real services; with-services.sh stops them whatever happens.
test: deps
	$(GO) vet ./...
	deploy/local/with-services.sh $(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 github.com/tetratelabs/wazero/internal/engine/wazevo  # the patched copy's own check (third_party/wazero)
	$(GO) test -count=1 -tags dev -run 'TestDemo|TestFlags' ./cmd/blindpack

# Fast tests only: what needs Redis or S3 is skipped.
unit:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags dev -run 'TestDemo|TestFlags' ./cmd/blindpack

demo: deps-demo build-dev
	bin/blindpack-dev demo --out demo-out

samples:
	$(GO) run ./testdata/gen -out testdata/samples

# blindpack against the ImageMagick/img2pdf/qpdf reference and the djpeg/cjpeg floor on a generated
# workload (BENCH_FLAGS="--runs 3" for medians; pages are drawn once into ~/.cache/blindpack/bench),
# then the testing.B benchmarks.
bench: deps
	$(GO) run -tags dev ./cmd/blindpack bench $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./pipeline/...

# The clarity thresholds against the labelled synthetic set (README "Clarity and completeness").
calibrate:
	$(GO) run -tags dev ./cmd/blindpack calibrate

# Each fuzz target of the parsers of untrusted input for FUZZTIME (default 2m) from its seed corpus
# in testdata/fuzz; new crashers are written there too. Not run in CI, which runs the seeds as tests.
FUZZTIME ?= 2m
FUZZ_TARGETS := \
	./pipeline/scan:FuzzStripJPEG ./pipeline/scan:FuzzParsePNG ./pipeline/scan:FuzzOpen \
	./pipeline/scan:FuzzCanonicalJPEG ./pipeline/scan/jpegcodec:FuzzCanonicalStreamed \
	./pipeline/scan:FuzzOpenPDF ./pipeline/scan:FuzzOpenTIFF ./pipeline/scan:FuzzOpenHEIC \
	./pipeline/scan:FuzzParseHEIF ./pipeline/scan:FuzzOpenWebP ./pipeline/scan:FuzzOpenBMP \
	./pipeline:FuzzParseSubmission ./pipeline/mask:FuzzStored \
	./internal/pdfkit:FuzzLexer ./internal/pdfkit:FuzzToUnicode \
	./pipeline/result:FuzzReadUpdates ./internal/strictjson:FuzzDecode \
	./pipeline/render:FuzzRender
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in $${t%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%:*}"; \
	done

# Scale-out on the real engine (a few minutes): LOAD_FLAGS="-n 200 -workers 1,2,4,8" for a bigger run.
# Then a campaign at full size: REHEARSAL applicants in waves (about 20 minutes for 10,000).
REHEARSAL ?= 10000
load: deps
	$(GO) run ./deploy/load $(LOAD_FLAGS)
	$(GO) run ./deploy/load -rehearsal $(REHEARSAL) -workers 2

# Every fault test, the long ones included (about 10 minutes), then the table.
faults: deps
	deploy/local/build-seaweedfs.sh
	BLINDPACK_FAULTS=1 $(GO) test -count=1 -v -timeout 45m ./internal/faulttest/
	BLINDPACK_FAULTS=1 deploy/local/with-services.sh $(GO) test -count=1 -v -timeout 15m -run '^TestWebhooks$$' ./workers/

# go vet and staticcheck (pinned; fetched through the Go module proxy the first time). A cold
# staticcheck run analyses every dependency (a few minutes on 2 cores), later runs take seconds.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	$(GO) vet ./...
	$(GO) vet -tags dev ./cmd/blindpack
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags dev ./cmd/blindpack

fmt:
	gofmt -l -w $$(git ls-files '*.go')

clean:
	rm -rf bin demo-out
