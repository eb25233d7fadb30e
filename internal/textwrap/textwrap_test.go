package textwrap

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s             string
		width, indent int
		want          string
	}{
		{"", 10, 0, ""},
		{"one two three", 80, 0, "one two three"},
		{"one two three", 7, 0, "one two\nthree"},
		{"one two three", 7, 2, "one two\n  three"},
		// Runes, not bytes: "5µs" is three columns.
		{"ab 5µs cd", 6, 0, "ab 5µs\ncd"},
		// A word wider than the line gets one of its own.
		{"a verylongword b", 5, 0, "a\nverylongword\nb"},
		{"  spaces   collapse ", 80, 0, "spaces collapse"},
	} {
		if got := Wrap(tc.s, tc.width, tc.indent); got != tc.want {
			t.Errorf("Wrap(%q, %d, %d) = %q, want %q", tc.s, tc.width, tc.indent, got, tc.want)
		}
	}
}

// TestWrapWidth: no line of a wrapped paragraph exceeds the width unless
// it is a single word.
func TestWrapWidth(t *testing.T) {
	s := strings.Repeat("greybox: each execution follows from those before it, µs ", 20)
	for _, indent := range []int{0, 2, 10} {
		for _, line := range strings.Split(strings.Repeat(" ", indent)+Wrap(s, Width-indent, indent), "\n") {
			if utf8.RuneCountInString(line) > Width {
				t.Errorf("indent %d: %d columns: %q", indent, utf8.RuneCountInString(line), line)
			}
		}
	}
}
