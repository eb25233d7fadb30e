# pagelab: make bench runs the standard matrix; make test runs the tests.
GO       ?= go
RUNS     ?= 100000
SEED     ?= 1
LABEL    ?= $(shell date -u +%Y%m%dT%H%M%SZ)
OUT      ?= results/$(LABEL)

.PHONY: all test bench build fuzz clean

all: test

build:
	$(GO) build -o pagelab ./cmd/pagelab

# The tests: vet, the whole suite, the race detector on the packages that
# will run on real goroutines, and a short fuzz of the schedule parser.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./sim ./mm ./bench
	$(GO) test -run '^$$' -fuzz FuzzParseSchedule -fuzztime 10s ./sim

RACES    = writeback-restart,writeback-reuse
LATENCY  = lock-storm,fsync-storm
CPUS     ?= 4,16,64

# The standard matrix: every workload under every fix variant of its family
# (races explored RUNS times, latency workloads timed at CPUS simulated
# CPUs), then the scheduler's benchmarks. Output goes to $(OUT)/.
bench: build
	@mkdir -p $(OUT)
	./pagelab run -workload $(RACES) -fix all -runs $(RUNS) -seed $(SEED) | tee $(OUT)/summary.txt
	./pagelab run -workload $(LATENCY) -fix all -cpus $(CPUS) -seed $(SEED) | tee -a $(OUT)/summary.txt
	./pagelab run -workload $(RACES) -fix all -runs $(RUNS) -seed $(SEED) -json > $(OUT)/results.jsonl
	./pagelab run -workload $(LATENCY) -fix all -cpus $(CPUS) -seed $(SEED) -json >> $(OUT)/results.jsonl
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -benchtime 1s ./sim ./bench | tee $(OUT)/bench.txt
	@echo "results in $(OUT)/"

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseSchedule -fuzztime 5m ./sim

clean:
	rm -f pagelab
