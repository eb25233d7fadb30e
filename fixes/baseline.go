package fixes

// Baseline is the unpatched model: v5.10-rc5, with 2a9127fcf229 ("mm:
// rewrite wait_on_page_bit_common() logic") and 5ef64cc8987a ("mm: allow a
// controlled amount of unfairness in the page lock") merged, and neither
// 073861ed77b6 nor c2407cf7d22d.
var Baseline = &Fix{
	ID:   "baseline",
	Ref:  "v5.10-rc5",
	Desc: "v5.10-rc5 as released: wake-up without re-test, unfairness budget 5",
}
