# pagelab: make bench runs the standard matrix; make test runs the tests.
GO    ?= go
RUNS  ?= 100000
COUNT ?= 6
CPUS  ?= 4,16,64
SEED  ?= 1
# Exhaustive search of every race cell: distinct states per cell (beyond:
# unknown). 100,000 finishes six of race A's nine variants and keeps
# make bench near two minutes on 2 cores; pagelab verify has no such
# default limit worth speaking of (2,000,000).
VERIFY_STATES ?= 100000
# Goroutines of pagelab bench (-j): empty for its default, GOMAXPROCS. The
# results are the same, byte for byte, for any value.
J     ?=
ifndef LABEL
LABEL := $(shell date -u +%Y%m%dT%H%M%SZ)
endif
OUT := results/$(LABEL)

.PHONY: all test bench bench-verify bench-scale bench-hunt hunt hunt-deep hunt-corruption build fuzz clean sweep-larabel

all: test

build:
	$(GO) build -buildvcs=true -o pagelab ./cmd/pagelab

# The tests: vet, the whole suite, the race detector on the packages that
# run on real goroutines (native mode), and short fuzzing of the parsers of
# user input (schedules, results files). The fuzzing budgets are counts of
# executions (about 5 to 10 s each on the 2-core machine), not durations:
# Go 1.26's fuzzing coordinator can report a duration's end as a failure,
# "context deadline exceeded" with no failing input, when a worker is busy
# as the time runs out (golang/go#75804, fixed in Go 1.27); a count has no
# deadline to race.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./sim ./mm ./bench
	$(GO) test -run '^$$' -fuzz FuzzParseSchedule -fuzztime 400000x ./sim
	$(GO) test -run '^$$' -fuzz FuzzReadRecords -fuzztime 100000x ./bench
	$(GO) test -run '^$$' -fuzz FuzzReadManifest -fuzztime 50000x ./bench
	$(GO) test -run '^$$' -fuzz FuzzBenchFile -fuzztime 60000x ./bench
	$(GO) test -run '^$$' -fuzz FuzzFlagValues -fuzztime 30000x ./cmd/pagelab
	$(GO) test -run '^$$' -fuzz FuzzParseStrategy -fuzztime 100000x ./hunt
	$(GO) test -run '^$$' -fuzz FuzzParseFocus -fuzztime 100000x ./mm
	$(GO) test -run '^$$' -fuzz FuzzParseSweep -fuzztime 80000x ./sweep

# The standard matrix (every workload under its fix variants: races
# explored RUNS times, latency workloads timed COUNT times at CPUS simulated
# CPUs) into results/$(LABEL)/: summary.txt, bench.txt (go tool benchstat
# reads it), results.jsonl, manifest.json, plots/. Then the scheduler's own
# benchmarks, in scheduler-bench.txt.
bench: build
	./pagelab bench -label $(LABEL) -runs $(RUNS) -count $(COUNT) -cpus $(CPUS) -seed $(SEED) -verify-states $(VERIFY_STATES) $(if $(J),-j $(J))
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench . -skip 'BenchmarkVerify' -benchtime 1s ./sim ./bench > $(OUT)/scheduler-bench.txt
	@echo "results in $(OUT)/"

# The exhaustive search's benchmark: race A's eleven variants searched to
# the end, one whole search per op, beside preemption-bounded DFS (bound 2)
# on the same cells, then the bare coroutine hand-off (timed for its
# default second: one op of it is one cold hand-off), all on one core.
bench-verify:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'BenchmarkVerify' -benchtime 1x ./bench
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'BenchmarkHandoff' ./sim

# pagelab bench's scaling over cores: the standard matrix at a tenth of
# the executions, with -j 1 and with the default -j, in one process; it
# reports both times and their ratio (speedup) and checks the results are
# the same.
bench-scale:
	$(GO) test -run '^$$' -bench BenchmarkBenchScaling -benchtime 1x ./cmd/pagelab

# The README's search-power table (pagelab hunt): every seed failure id
# under every sampler, 100,000 executions per rate and the time to the
# first failure over 100 seeds; its Markdown goes to results/hunt.md, and
# each seed's first failure in the benchmark format (for benchstat) to
# results/hunt.txt.
hunt: build
	./pagelab hunt -runs 100000 -seeds 100 -campaign-runs 50000 -markdown results/hunt.md -bench results/hunt.txt

# race-b-truncate's data corruption, which no campaign of the table's
# 10,000 executions fires: greybox over ten campaigns of 600,000 (about
# as long as one takes to find it) and the default pct-task over 6,000,000
# independent executions, against 10,000,000 random ones, and greybox's
# first failure over 20 campaigns of at most 600,000; to
# results/hunt-deep.md; then the walk over 10,000,000 executions of the
# reused-page flavours, which the table's 1,000,000 do not fire, to
# results/hunt-deep-walk.md. About 34 minutes on the 2-core machine.
hunt-deep: build
	./pagelab hunt -target race-b-truncate -strategy random,pct-task:14,greybox -runs 6000000 -reference-runs 10000000 -seeds 20 -campaign-runs 600000 -markdown results/hunt-deep.md
	./pagelab hunt -target race-b-page,race-b-thp -strategy random -reference-runs 10000000 -seeds 1 -markdown results/hunt-deep-walk.md

# The rate ratio behind race-b-truncate's data-corruption row of the
# README's bars: the default pct-task over 20,000,000 executions against
# the walk over 100,000,000, which fires it one to three times, to
# results/hunt-corruption-$(SEED).md; the README adds up SEED=1 to 5.
# About 22 minutes a seed on the 2-core machine.
hunt-corruption: build
	./pagelab hunt -target race-b-truncate -strategy random,pct-task:14 -runs 20000000 -reference-runs 100000000 -seed $(SEED) -seeds 20 -markdown results/hunt-corruption-$(SEED).md

# Michael Larabel's page-lock fairness sweep (September 2020: Apache Siege
# on 5.8, 5.9-git and page_lock_unfairness 0, 4 and 5 at 1 to 250 users),
# as pagelab sweep's defaults: lock-storm's fault path at 64 simulated
# CPUs. The README's table; about 15 s on 2 cores.
sweep-larabel: build
	./pagelab sweep -markdown results/larabel.md -plot results/larabel.svg

# The time to the first failure of every seed under its workload's default
# strategy and under greybox, over 100 seeds on one core, beside the bare
# hand-off (target: a median under 5 ms). -v shows why a cell is skipped
# (never fired in the 20,000-execution probe, or most seeds never find it).
bench-hunt:
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench BenchmarkFirstFailure -benchtime 100x -timeout 60m -v ./hunt

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseSchedule -fuzztime 5m ./sim
	$(GO) test -run '^$$' -fuzz FuzzReadRecords -fuzztime 5m ./bench
	$(GO) test -run '^$$' -fuzz FuzzReadManifest -fuzztime 5m ./bench
	$(GO) test -run '^$$' -fuzz FuzzBenchFile -fuzztime 5m ./bench
	$(GO) test -run '^$$' -fuzz FuzzFlagValues -fuzztime 5m ./cmd/pagelab
	$(GO) test -run '^$$' -fuzz FuzzParseStrategy -fuzztime 5m ./hunt
	$(GO) test -run '^$$' -fuzz FuzzParseFocus -fuzztime 5m ./mm
	$(GO) test -run '^$$' -fuzz FuzzParseSweep -fuzztime 5m ./sweep

clean:
	rm -f pagelab
