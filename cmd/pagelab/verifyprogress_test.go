package main

import (
	"bytes"
	"os"
	"sync/atomic"
	"testing"

	"github.com/pagelab/pagelab/bench"
)

// TestVerifyProgressOffTerminal: off a terminal (a buffer, a file, CI's
// pipe) verify shows no progress and hooks nothing into the searches.
func TestVerifyProgressOffTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []any{&bytes.Buffer{}, f} {
		cfgs := []*bench.VerifyConfig{{}, {}}
		var p *verifyProgress
		switch w := w.(type) {
		case *bytes.Buffer:
			p = newVerifyProgress(w, cfgs)
		case *os.File:
			p = newVerifyProgress(w, cfgs)
		}
		if p != nil || cfgs[0].Progress != nil {
			t.Errorf("%T: progress %v, Progress hooked %v", w, p != nil, cfgs[0].Progress != nil)
		}
		p.done() // nil-safe
		p.close()
	}
}

// TestVerifyProgressDescribe: the text counts the finished searches and
// sums the states of all of them.
func TestVerifyProgressDescribe(t *testing.T) {
	p := &verifyProgress{states: make([]atomic.Int64, 3)}
	if got, want := p.describe(), "verify: 0 of 3 searches, 0 states"; got != want {
		t.Errorf("describe() = %q, want %q", got, want)
	}
	p.states[0].Store(9711755)
	p.states[2].Store(288245)
	p.done()
	if got, want := p.describe(), "verify: 1 of 3 searches, 10,000,000 states"; got != want {
		t.Errorf("describe() = %q, want %q", got, want)
	}
}
