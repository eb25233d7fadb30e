package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/pagelab/pagelab/bench"
)

// verifyProgress shows, on a terminal, how far `pagelab verify` has got:
// the searches finished and the distinct states of all of them so far. A
// search to the end of a race at its seed's parameters takes millions of
// states and minutes (race C1: 5 to 10 million, 5 to 16 minutes each), and
// the table comes only at the end. Off a terminal (CI logs, a pipe) it
// writes nothing.
type verifyProgress struct {
	states   []atomic.Int64 // by cell: distinct states so far
	finished atomic.Int32
	bar      *progressbar.ProgressBar
	stop     chan struct{}
	wg       sync.WaitGroup
}

// newVerifyProgress hooks the progress into cfgs (their Progress) when w
// is a terminal, and returns nil otherwise.
func newVerifyProgress(w io.Writer, cfgs []*bench.VerifyConfig) *verifyProgress {
	if !isTerminal(w) {
		return nil
	}
	p := &verifyProgress{states: make([]atomic.Int64, len(cfgs)), stop: make(chan struct{})}
	for i, c := range cfgs {
		c.Progress = func(n int) { p.states[i].Store(int64(n)) }
	}
	p.bar = newBar(w, len(cfgs), p.describe())
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.bar.Describe(p.describe())
				p.bar.Set(int(p.finished.Load()))
			}
		}
	}()
	return p
}

// describe is the bar's text: "verify: 2 of 5 searches, 1,234,567 states".
func (p *verifyProgress) describe() string {
	var total int64
	for i := range p.states {
		total += p.states[i].Load()
	}
	return fmt.Sprintf("verify: %d of %d searches, %s states", p.finished.Load(), len(p.states), bench.Thousands(total))
}

// done counts a finished search; nil-safe.
func (p *verifyProgress) done() {
	if p != nil {
		p.finished.Add(1)
	}
}

// close clears the bar before the table is written; nil-safe.
func (p *verifyProgress) close() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.bar.Finish()
}
