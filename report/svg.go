package report

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxSVGBytes bounds one SVG file a report embeds: pagelab's plots and
// diagrams are tens of kilobytes.
const MaxSVGBytes = 16 << 20

var (
	// The XML prolog, doctype, comments and white space before the root.
	prologRE = regexp.MustCompile(`(?s)\A(?:\s+|<\?xml.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*`)
	// Comments and white space after it.
	epilogRE = regexp.MustCompile(`(?s)(?:\s+|<!--.*?-->)*\z`)
	// A start tag, its name and its attributes.
	tagRE  = regexp.MustCompile(`<([A-Za-z][-A-Za-z0-9_:.]*)([^>]*)>`)
	attrRE = regexp.MustCompile(`(?s)\s([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	// What an embedded picture must not hold: it would run code, load a
	// resource or declare entities.
	badRE    = regexp.MustCompile(`(?i)<!ENTITY|<!DOCTYPE|<\?xml|javascript:|@import|url\(\s*['"]?\s*(?:[a-z][-a-z0-9+.]*:|//)`)
	idAttrRE = regexp.MustCompile(`\sid="([^"]*)"`)
	// A reference to an id: url(#id) or href="#id".
	refRE    = regexp.MustCompile(`url\(#([^)"]*)\)|href="#([^"]*)"`)
	lengthRE = regexp.MustCompile(`\A\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*\z`)
)

// banned elements: code, HTML inside the picture, other documents.
var bannedTags = map[string]bool{"script": true, "foreignobject": true, "iframe": true, "object": true, "embed": true, "handler": true, "listener": true}

// embedSVG turns an SVG file into markup to place inside an HTML page: the
// XML prolog, doctype and leading comments go, a viewBox is added to a root
// that has a width and height but none (so that CSS can scale it), and the
// ids it declares get prefix (two pictures on one page must not share an
// id). A picture that could run code or load anything (scripts, event
// handlers, references outside itself) is refused, as is one without a
// size.
func embedSVG(data []byte, prefix string) (string, error) {
	if len(data) > MaxSVGBytes {
		return "", fmt.Errorf("larger than %d MiB: not a pagelab picture", MaxSVGBytes>>20)
	}
	s := string(data)
	s = strings.TrimPrefix(s, "\uFEFF")
	s = s[len(prologRE.FindString(s)):]
	s = s[:len(s)-len(epilogRE.FindString(s))]
	if !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(s, "</svg>") {
		return "", fmt.Errorf("not an SVG picture (want one <svg> element)")
	}
	if m := badRE.FindString(s); m != "" {
		return "", fmt.Errorf("holds %q: a picture to embed must not declare entities or load anything", m)
	}
	for _, t := range tagRE.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(t[1])
		if i := strings.LastIndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		if bannedTags[name] {
			return "", fmt.Errorf("holds a <%s> element: a picture to embed must not run code or hold documents", t[1])
		}
		for _, a := range attrRE.FindAllStringSubmatch(t[2], -1) {
			attr := strings.ToLower(a[1])
			val := strings.Trim(a[2], `"'`)
			switch {
			case strings.HasPrefix(attr, "on"):
				return "", fmt.Errorf("holds an event handler (%s=): a picture to embed must not run code", a[1])
			case (attr == "src" || attr == "href" || strings.HasSuffix(attr, ":href")) && !strings.HasPrefix(strings.TrimSpace(val), "#"):
				return "", fmt.Errorf("refers to %q: a picture to embed must not load anything", val)
			}
		}
	}
	// The root: its size.
	root := tagRE.FindStringSubmatchIndex(s)
	attrs := s[root[4]:root[5]]
	vals := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(attrs, -1) {
		vals[strings.ToLower(a[1])] = strings.Trim(a[2], `"'`)
	}
	if _, ok := vals["viewbox"]; !ok {
		w, h := lengthRE.FindStringSubmatch(vals["width"]), lengthRE.FindStringSubmatch(vals["height"])
		if w == nil || h == nil {
			return "", fmt.Errorf("has no viewBox and no width and height in pixels: it would not render at a known size")
		}
		s = s[:root[5]] + fmt.Sprintf(` viewBox="0 0 %s %s"`, w[1], h[1]) + s[root[5]:]
	}
	// Its ids.
	ids := map[string]bool{}
	for _, m := range idAttrRE.FindAllStringSubmatch(s, -1) {
		ids[m[1]] = true
	}
	if len(ids) > 0 {
		s = idAttrRE.ReplaceAllString(s, ` id="`+prefix+`$1"`)
		s = refRE.ReplaceAllStringFunc(s, func(ref string) string {
			m := refRE.FindStringSubmatch(ref)
			id := m[1] + m[2]
			if !ids[id] {
				return ref
			}
			return strings.Replace(ref, "#"+id, "#"+prefix+id, 1)
		})
	}
	return s, nil
}
