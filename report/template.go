package report

import (
	"html/template"
	"strings"

	"github.com/pagelab/pagelab/mm"
)

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"verdictClass": func(v string) string {
		switch v {
		case "verified", "fails", "unknown":
			return "v-" + v
		}
		return "v-none"
	},
	"join": strings.Join,
	"failureDesc": func(id string) string {
		if f, ok := mm.ParseFailure(id); ok {
			return f.Description()
		}
		return ""
	},
}).Parse(pageText))

// The page: plain HTML5 with a few lines of inline style; no script, no
// external resource. Tables keep to the numbers of summary.txt.
const pageText = `{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: #1b1b1b; background: #fff; margin: 0 auto; max-width: 1280px; padding: 0 1em 3em; line-height: 1.4; }
h1 { font-size: 1.6em; margin: .6em 0 .2em; }
h2 { font-size: 1.35em; margin: 0 0 .3em; }
h3 { font-size: 1.1em; margin: 1.2em 0 .3em; }
header { border-bottom: 2px solid #d0d7de; padding-bottom: .5em; }
dl.facts { display: flex; flex-wrap: wrap; gap: .1em 1.6em; margin: .4em 0; }
dl.facts div { white-space: nowrap; }
dl.facts dt { display: inline; font-weight: bold; }
dl.facts dt::after { content: ":"; }
dl.facts dd { display: inline; margin: 0 0 0 .3em; }
nav { border-bottom: 2px solid #d0d7de; padding: .3em 0 .6em; }
nav ul { margin: .2em 0; padding-left: 1.4em; }
nav li span { color: #555; }
section { border-bottom: 1px solid #d0d7de; padding: 1.2em 0; }
p.desc { margin: .2em 0 .6em; color: #444; }
.partial { color: #b00020; font-weight: bold; }
table { border-collapse: collapse; margin: .4em 0 .8em; font-size: .92em; }
caption { text-align: left; font-weight: bold; padding: .2em 0; }
caption span { font-weight: normal; color: #555; }
th, td { padding: .15em .7em; border-bottom: 1px solid #e3e6ea; text-align: right; white-space: nowrap; vertical-align: top; }
th { background: #f3f5f8; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td.text { white-space: normal; }
.v-verified { color: #1a7f37; font-weight: bold; }
.v-fails { color: #b00020; font-weight: bold; }
.v-unknown { color: #7a5a00; }
.v-none { color: #777; }
.sig { font-weight: bold; }
.note { color: #444; font-size: .92em; }
figure { margin: 1em 0; }
figcaption { font-weight: bold; margin: 0 0 .3em; }
figcaption code, .file { font-weight: normal; color: #555; font-size: .9em; }
figure svg { overflow: visible; }
figure.plot svg { display: block; max-width: 100%; height: auto; }
.tables { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
figure.diagram .lanes { overflow-x: auto; max-width: 100%; }
figure.diagram .lanes svg { display: block; }
figure.diagram .pair { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; background: #f6f8fa; border: 1px solid #e3e6ea; padding: .5em; margin: 0; overflow-x: auto; max-width: 100%; }
pre.cmd { white-space: pre-wrap; word-break: break-all; }
.replay { margin: .3em 0 .6em; }
.side { display: grid; grid-template-columns: repeat(auto-fit, minmax(28em, 1fr)); gap: 1em; align-items: start; }
.side figure { margin: .5em 0; }
.missing { color: #777; font-style: italic; padding: 1em; border: 1px dashed #d0d7de; }
details { margin: 1em 0; }
</style>
</head>
{{end}}

{{define "failures"}}{{$d := .Failures}}
<table class="fixes">
<caption>Per fix <span>(failing runs: runs in which any failure fired; search: the exhaustive search of every interleaving, pagelab verify)</span></caption>
<thead><tr><th>fix</th><th>runs</th><th>failing</th><th>rate</th><th class="text">exhaustive search</th></tr></thead>
<tbody>
{{range .Fixes}}<tr><td>{{.R.Fix}}</td><td>{{.R.Runs}}</td><td>{{.Failing}}</td><td>{{.Rate}}</td><td class="text">{{.Search}}</td></tr>
{{end}}</tbody>
</table>
{{if .None}}<p>{{.None}}</p>{{else}}
<p class="note">fail:runs per fix with the 95% Wilson interval of the rate (for 0 fails the rule-of-three bound), the verdict of the exhaustive search, and the change against {{$d.Base.Fix}} with Fisher's exact p-value, Holm-adjusted over the {{$d.Comparisons}} comparisons of this workload (alpha 0.05; ~: not significant).{{if $d.Approx}} {{$d.Approx}} of them by the normal approximation.{{end}}</p>
{{range $i, $id := $d.IDs}}
<table class="failure" id="{{$d.Workload}}-{{$id}}">
<caption>{{$id}} <span>{{failureDesc $id}}</span></caption>
<thead><tr><th>fix</th><th>fail:runs</th><th>rate</th><th>95% CI</th><th>verdict</th><th class="text">vs {{$d.Base.Fix}}</th></tr></thead>
<tbody>
{{range index $d.Cells $i}}<tr><td>{{.R.Fix}}</td><td>{{.K}}:{{.N}}</td><td>{{.Rate}}</td><td>{{.CI}}</td><td class="{{verdictClass .Verdict}}">{{.Verdict}}</td><td class="text{{if and .VsBase (lt .Adj 0.05)}} sig{{end}}">{{.VsBase}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
<p class="note">verdict: exhaustive search of every interleaving (pagelab verify): verified = no interleaving fires it, fails = one does, unknown = the search was cut short (state budget, depth bound), - = not verified.</p>
{{end}}
{{if .CutShort}}<p class="note">Searches cut short (unknown where they found nothing): {{join .CutShort "; "}}.</p>{{end}}
{{range .After}}<p class="note">{{.}}</p>
{{end}}{{end}}

{{define "latency"}}{{$d := .Lat}}
<p class="note">{{$d.Op}}, {{$d.Strategy}}: medians over the runs with 95% confidence intervals and Mann-Whitney U against {{$d.Base}} (benchmath), p Holm-adjusted over the {{$d.Comparisons}} comparisons of this workload; ~ when not significant at alpha 0.05.{{if eq $d.Strategy "native"}} Wall-clock time on the host.{{else}} Virtual time: exact for a seed; each of the n runs has its own seed.{{end}}</p>
<div class="tables">
{{range $d.Tables}}<table class="latency">
<caption>{{.Metric}}, {{.CPUs}} CPUs</caption>
<thead><tr><th>fix</th><th>median</th><th>CI</th><th class="text">vs {{$d.Base}}</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.R.Fix}}</td><td>{{.Median}}</td><td>{{.CI}}</td><td class="text{{if .Different}} sig{{end}}">{{.VsBase}}</td></tr>
{{end}}</tbody>
</table>
{{end}}</div>
{{if .Dist}}<table class="dist">
<caption>{{.DistOp}}, pooled over the runs <span>(latency percentiles; wake-ups and spurious wake-ups per operation)</span></caption>
<thead><tr><th>fix</th><th>cpus</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>wake/op</th><th>spur/op</th></tr></thead>
<tbody>
{{range .Dist}}<tr><td class="text">{{.R.Fix}}</td><td>{{.R.CPUs}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td>{{.Max}}</td><td>{{.Wakeups}}</td><td>{{.Spurious}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{if .RunFailures}}<h3>Failures in these runs</h3>
<p class="note">Correctness checks stay on in timed runs.</p>
<ul>{{range .RunFailures}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Counts}}<h3>Counts</h3>
<table class="counts">
<caption>Count metrics <span>(pooled over the runs; run max: median of each run's largest)</span></caption>
<thead><tr><th>metric</th><th>unit</th><th>fix</th><th>cpus</th><th>p50</th><th>p99</th><th>max</th><th>run max</th></tr></thead>
<tbody>
{{range .Counts}}<tr><td>{{.Metric}}</td><td class="text">{{.Unit}}</td><td class="text">{{.R.Fix}}</td><td>{{.R.CPUs}}</td><td>{{.P50}}</td><td>{{.P99}}</td><td>{{.Max}}</td><td>{{.RunMax}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{end}}

{{define "plot"}}<figure class="plot" id="{{.ID}}">
<figcaption>{{.Caption}} <code>{{.File}}</code></figcaption>
{{.SVG}}
</figure>
{{end}}

{{define "diagram"}}<figure class="diagram" id="{{.ID}}">
<figcaption>{{.Caption}} <code>{{.File}}</code></figcaption>
{{if .Replay}}<div class="replay">Replay it:
<pre class="cmd">{{.Replay}}</pre></div>{{end}}
<div class="pair">
{{if .Text}}<pre class="cpu">{{.Text}}</pre>{{end}}
{{if .SVG}}<div class="lanes">{{.SVG}}</div>{{end}}
</div>
</figure>
{{end}}

{{define "run"}}{{template "head" .}}<body>
<header>
<h1>pagelab results</h1>
<p{{if .Partial}} class="partial"{{end}}>{{.State}}</p>
<dl class="facts">
{{range .Facts}}<div><dt>{{.Name}}</dt><dd>{{.Value}}</dd></div>
{{end}}</dl>
<p class="note">The tables are those of summary.txt; the plots and diagrams those of plots/ and diagrams/, inline. When, where and how the run was made is in manifest.json.</p>
{{if .Missing}}<p class="partial">This directory lacks {{.Missing}} of the pictures its manifest.json lists: they are not on this page. <code>pagelab plot DIR</code> draws them again from results.jsonl, and <code>pagelab report DIR</code> then rewrites this page.</p>
{{end}}</header>
<nav>
<h2>Workloads</h2>
<ul>
{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a>{{if .Desc}} <span>{{.Desc}}</span>{{end}}</li>
{{end}}</ul>
</nav>
<main>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{if .Desc}}<p class="desc">{{.Desc}}</p>{{end}}
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{if .Failures}}{{template "failures" .}}{{end}}{{if .Lat}}{{template "latency" .}}{{end}}
{{range .Plots}}{{template "plot" .}}{{end}}
{{if .Diagrams}}<h3>First failures</h3>
{{range .Diagrams}}{{template "diagram" .}}{{end}}{{end}}
{{if .Schedules}}<h3>{{if .Diagrams}}Other first failures{{else}}First failures{{end}}</h3>
<p class="note">Not drawn (a timed cell's execution, a hang or a livelock, or a failure its schedule alone does not reproduce); each replays with its command.</p>
{{range .Schedules}}<div class="replay">{{.Caption}}{{if .Missing}} (its diagram, listed in manifest.json, is missing){{end}}:
<pre class="cmd">{{.Replay}}</pre></div>
{{end}}{{end}}
</section>
{{end}}</main>
</body>
</html>
{{end}}

{{define "side"}}{{.Name}} (revision {{.Revision}}, seed {{.Seed}}){{if .Partial}} <span class="partial">PARTIAL</span>{{end}}{{if .Absent}} <span class="partial">no manifest.json: completeness unknown</span>{{end}}{{end}}
{{define "compare"}}{{template "head" .}}<body>
<header>
<h1>pagelab comparison</h1>
<dl class="facts">
<div><dt>old</dt><dd>{{template "side" .A}}</dd></div>
<div><dt>new</dt><dd>{{template "side" .B}}</dd></div>
<div><dt>cells in common</dt><dd>{{.Common}}</dd></div>
<div><dt>comparisons</dt><dd>{{.Comparisons}}</dd></div>
</dl>
{{if .Warning}}<p class="partial">{{.Warning}}</p>{{end}}
<p class="note">p-values Holm-adjusted over every comparison; ~ when not significant at alpha 0.05. Failure counts: Fisher's exact test; latencies: medians of the runs, Mann-Whitney U (benchmath).{{if .Approx}} {{.Approx}} Fisher test(s) used the normal approximation.{{end}} The text of pagelab compare is at the end of the page.</p>
</header>
<nav>
<h2>Workloads</h2>
<ul>
{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a>{{if .Desc}} <span>{{.Desc}}</span>{{end}}</li>
{{end}}{{if .Uncompared}}<li><a href="#not-compared">not compared</a></li>
{{end}}<li><a href="#compare-text">pagelab compare's text</a></li>
</ul>
</nav>
<main>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{if .Desc}}<p class="desc">{{.Desc}}</p>{{end}}
{{if .Rows}}<table class="compare">
<thead><tr><th>cell</th><th class="text">what</th><th>old</th><th>new</th><th class="text">change</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Cell}}</td><td class="text">{{.What}}</td><td>{{.Old}}</td><td>{{.New}}</td><td class="text{{if .Significant}} sig{{end}}">{{.Change}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p>No cell of this workload is in both runs.</p>{{end}}
{{if .Verdicts}}<pre>{{.Verdicts}}</pre>{{end}}
{{range .Plots}}<div class="side">
{{if .A}}{{template "plot" .A}}{{else}}<div class="missing">{{.Name}}: not in {{$.A.Name}}</div>{{end}}
{{if .B}}{{template "plot" .B}}{{else}}<div class="missing">{{.Name}}: not in {{$.B.Name}}</div>{{end}}
</div>
{{end}}
</section>
{{end}}{{if .Uncompared}}<section id="not-compared">
<h2>Not compared</h2>
<ul>{{range .Uncompared}}<li>{{.}}</li>{{end}}</ul>
</section>
{{end}}<section id="compare-text">
<h2>pagelab compare's text</h2>
<pre>{{.Text}}</pre>
</section>
</main>
</body>
</html>
{{end}}`
