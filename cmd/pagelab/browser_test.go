package main

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pagelab/pagelab/bench"
)

// The report's browser test: report.html, written by pagelab bench, loaded
// from disk in headless Chromium (Debian's chromium package; .ci/run
// installs it with scripts/chromium-install.sh) through the DevTools
// protocol (chromedp). Under CI=true a missing Chromium fails the test.

var screenshotPath = flag.String("screenshot", "", "also write the report's first screen (PNG) to this file")

// chromium is the browser to drive: $PAGELAB_CHROMIUM, /usr/bin/chromium,
// or chromium on $PATH; "" if none.
func chromium() string {
	if p := os.Getenv("PAGELAB_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// figureInfo is what the page reports about one figure.
type figureInfo struct {
	Section string  `json:"section"`
	Kind    string  `json:"kind"`
	Width   float64 `json:"width"`
	Height  float64 `json:"height"`
	Images  int     `json:"images"`
	Broken  int     `json:"broken"`
}

func TestReportInBrowser(t *testing.T) {
	browser := chromium()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium not found (/usr/bin/chromium, $PAGELAB_CHROMIUM): scripts/chromium-install.sh installs it; under CI=true the browser test does not skip")
		}
		t.Skip("Chromium not found: scripts/chromium-install.sh installs it (as root)")
	}
	dir := filepath.Join(t.TempDir(), "run")
	// A race (failure plot, verdicts, diagrams), a latency workload
	// (latency and throughput plots) and writeback-chase (counts, walk
	// ECDF), small.
	args := []string{"bench", "-o", dir, "-workload", "writeback-restart,lock-storm,writeback-chase",
		"-runs", "3000", "-count", "2", "-cpus", "4,64", "-seed", "1", "-verify-states", "3000"}
	var stdout, stderr bytes.Buffer
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("pagelab %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	page := filepath.Join(dir, "report.html")
	if _, err := os.Stat(page); err != nil {
		t.Fatalf("pagelab bench wrote no report.html: %v", err)
	}
	recs, err := readRecordsFile(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var workloads []string
	for _, r := range recs {
		if !slices.Contains(workloads, r.Workload) {
			workloads = append(workloads, r.Workload)
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// Chromium can take longer than chromedp's 20 s to print its
		// DevTools address while the other packages' tests load both
		// cores (go test ./... runs them side by side).
		chromedp.WSURLReadTimeout(60*time.Second),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	// Start the browser once, here, and stop on failure: a failed start
	// leaves the context without a browser, and chromedp v0.23 starting
	// a second one for the same context (the next Do would) closes the
	// context's allocation channel twice and panics ("close of closed
	// channel", allocate.go:361), which took the whole test binary
	// down instead of failing this test.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", browser, err)
	}

	// Every console error, uncaught exception and browser-log error (a
	// resource that failed to load) of the page, collected while it loads.
	var mu sync.Mutex
	var problems []string
	cctx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(cctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("loading %s in Chromium (%s): %v", page, browser, err)
	}
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("section[id]")).map(s => s.id)`))
	if err != nil {
		t.Fatal(err)
	}
	figs, err := chromedp.Run(ctx, chromedp.Evaluate[[]figureInfo](`Array.from(document.querySelectorAll("figure")).map(f => {
			const r = (f.querySelector("svg") || f).getBoundingClientRect();
			const imgs = Array.from(f.querySelectorAll("img"));
			return {section: (f.closest("section[id]") || {id: ""}).id, kind: f.className,
				width: r.width, height: r.height, images: imgs.length,
				broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).length};
		})`))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	stopConsole()
	<-done

	// Every section present.
	for _, w := range workloads {
		if !slices.Contains(ids, w) {
			t.Errorf("no section id %q in the rendered page (sections: %v)", w, ids)
		}
	}
	// Every image decoded, with a size.
	plotsIn := map[string]int{}
	for _, f := range figs {
		if f.Width <= 0 || f.Height <= 0 || f.Broken > 0 {
			t.Errorf("figure %q in section %q rendered %gx%g with %d of %d images broken", f.Kind, f.Section, f.Width, f.Height, f.Broken, f.Images)
		}
		plotsIn[f.Section]++
	}
	for _, w := range workloads {
		if plotsIn[w] == 0 {
			t.Errorf("section %q has no figure", w)
		}
	}
	// No JavaScript, nothing the page asked for failed, nothing complained.
	if scripts != 0 {
		t.Errorf("the page has %d scripts; it must read without JavaScript", scripts)
	}
	for _, p := range problems {
		t.Errorf("page: %s", p)
	}

	// The first screen, against the golden, with a tolerance: the same
	// Chromium on another machine of the kind renders text a pixel apart.
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if *screenshotPath != "" {
		if err := os.WriteFile(*screenshotPath, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden := filepath.Join("testdata", "report-first-screen.png")
	if *rewrite {
		if err := os.WriteFile(golden, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/pagelab -run TestReportInBrowser -rewrite writes it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if frac := pixelDiff(img, want); frac > 0.05 {
		got := filepath.Join(t.TempDir(), "first-screen.png")
		os.WriteFile(got, shot, 0o644)
		t.Errorf("first screen differs from %s in %.1f%% of its pixels (tolerance 5%%); this run's: %s", golden, 100*frac, got)
	}
}

// pixelDiff is the fraction of pixels whose colour differs by more than
// 48 (of 255) in any channel; images of different sizes differ entirely.
func pixelDiff(a, b image.Image) float64 {
	ra, rb := a.Bounds(), b.Bounds()
	if ra.Dx() != rb.Dx() || ra.Dy() != rb.Dy() {
		return 1
	}
	n := 0
	for y := 0; y < ra.Dy(); y++ {
		for x := 0; x < ra.Dx(); x++ {
			r1, g1, b1, _ := a.At(ra.Min.X+x, ra.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(rb.Min.X+x, rb.Min.Y+y).RGBA()
			if absDiff(r1, r2) > 48<<8 || absDiff(g1, g2) > 48<<8 || absDiff(b1, b2) > 48<<8 {
				n++
			}
		}
	}
	return float64(n) / float64(ra.Dx()*ra.Dy())
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func readRecordsFile(path string) ([]*bench.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return bench.ReadRecords(io.Reader(f), path)
}
