// Package textwrap folds prose into the 80 columns of a plain-text mail,
// the width every command's text output keeps to (SPEC §1).
package textwrap

import (
	"strings"
	"unicode/utf8"
)

// Width is the column limit of the lab's text output.
const Width = 80

// Wrap folds s into lines of at most width columns of text (counted in
// runes: "µs" is two), breaking between words only, and indents every line
// after the first by indent spaces (which width does not count: text that
// starts at column c of its first line keeps within width+c columns with
// indent c). A word longer than the width (a schedule string) gets a line
// of its own.
func Wrap(s string, width, indent int) string {
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		if i > 0 {
			if col+1+n > width {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}
