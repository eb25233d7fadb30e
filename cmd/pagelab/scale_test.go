package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBenchScaling is pagelab bench's standard matrix — every
// workload under every fix variant, the exhaustive searches included —
// at a tenth of make bench's executions and search budget, once with -j 1
// and once with the default -j (GOMAXPROCS), in the same process. It
// reports both times and their ratio, "speedup" (issue 12 asks for at
// least 1.8 on 2 cores), and fails if the two results directories differ.
// make bench-scale runs it.
func BenchmarkBenchScaling(b *testing.B) {
	jobs := runtime.GOMAXPROCS(0)
	for range b.N {
		var secs [2]float64
		var dirs [2]string
		for k, j := range []int{1, jobs} {
			dirs[k] = filepath.Join(b.TempDir(), "j"+strconv.Itoa(j))
			start := time.Now()
			_, stderr, err := runCLI("bench", "-o", dirs[k], "-runs", "10000", "-count", "6", "-cpus", "4,16,64",
				"-verify-states", "10000", "-noplots", "-j", strconv.Itoa(j))
			if err != nil {
				b.Fatalf("-j %d: %v\n%s", j, err, stderr)
			}
			secs[k] = time.Since(start).Seconds()
		}
		for _, f := range []string{"results.jsonl", "bench.txt", "summary.txt"} {
			x, _ := os.ReadFile(filepath.Join(dirs[0], f))
			y, _ := os.ReadFile(filepath.Join(dirs[1], f))
			if string(x) != string(y) || len(x) == 0 {
				b.Fatalf("%s differs between -j 1 and -j %d", f, jobs)
			}
		}
		b.ReportMetric(secs[0], "s-j1")
		b.ReportMetric(secs[1], "s-jdefault")
		b.ReportMetric(secs[0]/secs[1], "speedup")
	}
}
