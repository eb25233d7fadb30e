package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pagelab/pagelab/bench"
)

// pollInterval is how often submit -wait asks squeue about the jobs; tests
// shorten it.
var pollInterval = time.Second

// submitExecutable is the pagelab binary the jobs run: this one. Tests
// replace it.
var submitExecutable = os.Executable

// submitIntro is the text of submit -h before the flags.
const submitIntro = `usage: pagelab submit -shards N [flags] -- bench [bench flags] -o DIR

Runs pagelab bench on a Slurm cluster, from a login node: a job array of N
shards, shard i running 'pagelab bench' on its part of the matrix into
DIR.shards/i (the shard comes from SLURM_ARRAY_TASK_ID and
SLURM_ARRAY_TASK_COUNT), and a merge job, started once every shard
completed, running 'pagelab merge' into DIR: the files an unsharded bench
writes, byte for byte, except manifest.json. The job scripts (array.sh,
merge.sh) and Slurm's logs (slurm-<job>_<i>.out, slurm-merge-<job>.out) go
to DIR.shards/. The shards and the merge run on the compute nodes: DIR and
this pagelab binary must be on storage every node sees (a shared file
system). Other sbatch options come from sbatch's environment variables
(SBATCH_ACCOUNT, SBATCH_QOS, ...).

flags:
`

// submitFlags are submit's own flags, before the "--".
type submitFlags struct {
	shards, cpusPerTask       int
	partition, timeLimit, mem string
	wait                      bool
	waitTimeout               time.Duration
}

// cmdSubmit submits a sharded pagelab bench to Slurm as a job array plus a
// merge job that depends on it, and with -wait waits for both and reports
// every shard's final state.
func cmdSubmit(args []string, stdout, stderr io.Writer) error {
	own, benchArgs, dashes := args, []string(nil), false
	if i := slices.Index(args, "--"); i >= 0 {
		own, benchArgs, dashes = args[:i], args[i+1:], true
	}
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	var f submitFlags
	fs.IntVar(&f.shards, "shards", 0, fmt.Sprintf("number of shards: jobs of the array (1 to %d; Slurm's MaxArraySize may allow fewer)", bench.MaxShards))
	fs.StringVar(&f.partition, "partition", "", "Slurm partition of both jobs (default: the cluster's default)")
	fs.StringVar(&f.timeLimit, "time-limit", "", "time limit of each job, in sbatch's --time format (minutes, hh:mm:ss, d-hh, ...; default: the partition's)")
	fs.IntVar(&f.cpusPerTask, "cpus-per-task", 1, "CPUs of each shard (1 to 1024); GOMAXPROCS is set to it, and bench -j follows")
	fs.StringVar(&f.mem, "mem", "", "memory of each shard, in sbatch's --mem format (e.g. 8G; default: the partition's); keep bench -max-memory below it")
	fs.BoolVar(&f.wait, "wait", false, "wait for the jobs, report each shard's final state, and fail unless every shard and the merge completed")
	fs.DurationVar(&f.waitTimeout, "wait-timeout", 24*time.Hour, "with -wait: stop waiting after this long, and fail (the jobs go on)")
	err := parseFlags(fs, own)
	var h helpRequested
	switch {
	case errors.As(err, &h):
		_, flags, _ := strings.Cut(h.text, "\n")
		return helpRequested{submitIntro + flags}
	case !dashes:
		// Before any flag error: "submit -shards 4 bench ..." lacks
		// the "--", not a flag.
		return usagef("submit: no '--': want pagelab submit -shards N [flags] -- bench [bench flags] -o DIR")
	case err != nil:
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	plan, err := planSubmit(benchArgs, f)
	if err != nil {
		return err
	}
	tools := []string{"sbatch", "scancel"}
	if f.wait {
		tools = append(tools, "squeue", "scontrol")
	}
	path := map[string]string{}
	for _, name := range tools {
		p, err := exec.LookPath(name)
		if err != nil {
			return fmt.Errorf("submit: %s not found in PATH: is this a Slurm login node?", name)
		}
		path[name] = p
	}
	exe, err := submitExecutable()
	if err != nil {
		return fmt.Errorf("submit: finding the pagelab binary: %v", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return fmt.Errorf("submit: finding the pagelab binary: %v", err)
	}

	in := watchInterrupt()
	defer in.release()
	arrayID, mergeID, err := plan.submit(path, exe)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "submitted array job %s (%d shards) and merge job %s; results in %s\n", arrayID, f.shards, mergeID, plan.out)
	if in.stopped() {
		return in.errorf("array job %s and merge job %s were submitted and go on", arrayID, mergeID)
	}
	if !f.wait {
		return nil
	}
	return plan.wait(path, in, arrayID, mergeID, f.waitTimeout, stdout)
}

var (
	partitionRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$`)
	timeLimitRE = regexp.MustCompile(`^([0-9]+-[0-9]+(:[0-9]+){0,2}|[0-9]+(:[0-9]+){0,2})$`)
	memRE       = regexp.MustCompile(`^[0-9]+[KMGT]?$`)
)

// check validates submit's own flags.
func (f *submitFlags) check() error {
	if f.shards < 1 || f.shards > bench.MaxShards {
		return usagef("submit: -shards %d out of range (valid: 1 to %d)", f.shards, bench.MaxShards)
	}
	if f.partition != "" && !partitionRE.MatchString(f.partition) {
		return usagef("submit: bad -partition %q: want a partition name (letters, digits, '_', '.', '-'; several separated by commas)", f.partition)
	}
	if f.timeLimit != "" && !timeLimitRE.MatchString(f.timeLimit) {
		return usagef("submit: bad -time-limit %q: want minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes or days-hours:minutes:seconds", f.timeLimit)
	}
	if f.cpusPerTask < 1 || f.cpusPerTask > 1024 {
		return usagef("submit: -cpus-per-task %d out of range (valid: 1 to 1024)", f.cpusPerTask)
	}
	if f.mem != "" && !memRE.MatchString(f.mem) {
		return usagef("submit: bad -mem %q: want megabytes, or a number with K, M, G or T (e.g. 8G)", f.mem)
	}
	if f.waitTimeout <= 0 {
		return usagef("submit: -wait-timeout %v: want a positive duration", f.waitTimeout)
	}
	return nil
}

// submitPlan is what submit will do: the results directory, the shards'
// directory beside it, and the user's bench flags without -o.
type submitPlan struct {
	flags     submitFlags
	out       string   // DIR, absolute
	shardsDir string   // DIR.shards
	benchArgs []string // the bench flags, -o removed
}

// planSubmit checks what follows the "--" — bench and its flags, with
// -o DIR and without the flags the shards' environment decides — and
// that DIR and DIR.shards are free.
func planSubmit(args []string, f submitFlags) (*submitPlan, error) {
	if len(args) == 0 || args[0] != "bench" {
		got := "nothing"
		if len(args) > 0 {
			got = strconv.Quote(args[0])
		}
		return nil, usagef("submit: %s after '--': want bench and its flags (pagelab submit -shards N -- bench ... -o DIR)", got)
	}
	defaults := benchFlagDefaults()
	p := &submitPlan{flags: f}
	out, outSeen := "", false
	given := map[string]string{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return nil, usagef("submit: unexpected argument %q in the bench flags (bench takes flags only)", a)
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "" || name[0] == '-' {
			return nil, usagef("submit: bad flag syntax in the bench flags: %s", a)
		}
		// A flag without "=" takes the next argument as its value unless
		// that is a flag: bench's only boolean flag then stands alone, and
		// a misplaced argument is bench's error, as it would be unsharded.
		n := 1
		if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			value, hasValue, n = args[i+1], true, 2
		}
		switch name {
		case "shard", "shards":
			return nil, usagef("submit: -%s in the bench flags: the shard comes from Slurm (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT); give submit -shards N", name)
		case "label":
			return nil, usagef("submit: -label in the bench flags: give -o DIR, a directory on storage every node sees")
		case "o":
			if outSeen {
				return nil, usagef("submit: -o given twice in the bench flags")
			}
			if !hasValue || value == "" {
				return nil, usagef("submit: -o in the bench flags needs a directory")
			}
			out, outSeen = value, true
			i += n - 1
			continue
		}
		if _, ok := defaults[name]; defaults != nil && !ok {
			valid := slices.Sorted(maps.Keys(defaults))
			return nil, usagef("submit: bench has no flag -%s (valid: -%s)", name, strings.Join(valid, " -"))
		}
		given[name] = value
		p.benchArgs = append(p.benchArgs, args[i:i+n]...)
		i += n - 1
	}
	if !outSeen {
		return nil, usagef("submit: the bench flags need -o DIR: the results directory, on storage every node sees")
	}
	if err := checkBenchValues(given, defaults, f.shards); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, fmt.Errorf("submit: -o %s: %v", out, err)
	}
	if abs == "/" {
		return nil, usagef("submit: -o /: want a directory of its own")
	}
	if strings.ContainsAny(abs, "%\\") || strings.ContainsFunc(abs, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, usagef("submit: -o %q: sbatch cannot take a path with '%%', '\\' or control characters; choose another directory", abs)
	}
	p.out, p.shardsDir = abs, abs+".shards"
	for _, d := range []struct{ path, why string }{
		{p.out, "choose another -o"},
		{p.shardsDir, "left by an earlier submit? remove it or choose another -o"},
	} {
		if fi, err := os.Stat(d.path); err == nil && !fi.IsDir() {
			return nil, usagef("submit: %s is not a directory (%s)", d.path, d.why)
		}
		if entries, err := os.ReadDir(d.path); err == nil && len(entries) > 0 {
			return nil, usagef("submit: %s already exists and is not empty (%s)", d.path, d.why)
		}
	}
	return p, nil
}

// benchFlagDefaults returns bench's flags and their defaults ("" for
// none), read from bench -h, or nil if that help cannot be had.
func benchFlagDefaults() map[string]string {
	var h helpRequested
	if !errors.As(cmdBench([]string{"-h"}, io.Discard, io.Discard), &h) {
		return nil
	}
	flags := map[string]string{}
	for _, line := range strings.Split(h.text, "\n") {
		if m := benchHelpRE.FindStringSubmatch(line); m != nil {
			flags[m[1]] = m[2]
		}
	}
	return flags
}

var benchHelpRE = regexp.MustCompile(`^  -(\S+)(?: \(default (.*)\))?$`)

// checkBenchValues catches, before anything is submitted, the bench flag
// values every shard would refuse: the workloads, fixes, CPU counts and
// memory budget (with bench's own parsers), and -runs or -count below the
// shard count (every shard runs a part of every cell). given are the
// values of the bench flags given, defaults bench's defaults.
func checkBenchValues(given, defaults map[string]string, shards int) error {
	value := func(name string) (string, bool) {
		if v, ok := given[name]; ok {
			return v, true
		}
		v := defaults[name]
		return v, v != ""
	}
	if list, ok := value("workload"); ok {
		wls, err := resolveWorkloads("submit: bench", list)
		if err != nil {
			return err
		}
		if list, ok := value("fix"); ok {
			if _, _, err := resolveFixes("submit: bench", wls, list); err != nil {
				return err
			}
		}
	}
	if list, ok := value("cpus"); ok {
		if _, err := parseCPUs("submit: bench", list); err != nil {
			return err
		}
	}
	if size, ok := value("max-memory"); ok {
		if _, err := parseBytes("submit: bench -max-memory", size); err != nil {
			return err
		}
	}
	for _, name := range []string{"runs", "count"} {
		v, ok := value(name)
		why := ""
		if _, set := given[name]; !set {
			why = " (bench's default)"
		}
		if n, err := strconv.ParseInt(v, 0, 64); ok && err == nil && n < int64(shards) {
			return usagef("submit: bench -%s %s%s is below -shards %d: every shard runs a part of every cell (give -%s %d or more, or fewer shards)", name, v, why, shards, name, shards)
		}
	}
	return nil
}

// shQuote quotes s for sh: in single quotes, each single quote of s
// closing the quoting, escaped with a backslash, and reopening it.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sbatchQuote quotes s for an #SBATCH line: double quotes, with '\', '"'
// and '#' escaped by a backslash, as sbatch reads its directives.
func sbatchQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `#`, `\#`).Replace(s) + `"`
}

// arrayScript is the job array's script: shard $SLURM_ARRAY_TASK_ID of
// bench into DIR.shards/$SLURM_ARRAY_TASK_ID.
func (p *submitPlan) arrayScript(exe string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	p.directives(&b, "pagelab-bench", filepath.Join(p.shardsDir, "slurm-%A_%a.out"))
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", p.flags.cpusPerTask)
	if p.flags.mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", p.flags.mem)
	}
	b.WriteString("# Shard $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT (bench reads both).\n")
	fmt.Fprintf(&b, "GOMAXPROCS=%d\nexport GOMAXPROCS\n", p.flags.cpusPerTask)
	b.WriteString("exec " + shQuote(exe) + " bench")
	for _, a := range p.benchArgs {
		b.WriteString(" " + shQuote(a))
	}
	b.WriteString(" -o " + shQuote(p.shardsDir+"/") + `"$SLURM_ARRAY_TASK_ID"` + "\n")
	return b.String()
}

// mergeScript is the merge job's script: every shard into DIR.
func (p *submitPlan) mergeScript(exe string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	p.directives(&b, "pagelab-merge", filepath.Join(p.shardsDir, "slurm-merge-%j.out"))
	b.WriteString("exec " + shQuote(exe) + " merge " + shQuote(p.out))
	for i := range p.flags.shards {
		b.WriteString(" \\\n\t" + shQuote(filepath.Join(p.shardsDir, strconv.Itoa(i))))
	}
	b.WriteString("\n")
	return b.String()
}

// directives writes the #SBATCH lines both jobs share.
func (p *submitPlan) directives(b *strings.Builder, name, output string) {
	fmt.Fprintf(b, "#SBATCH --job-name=%s\n", name)
	fmt.Fprintf(b, "#SBATCH --output=%s\n", sbatchQuote(output))
	fmt.Fprintf(b, "#SBATCH --chdir=%s\n", sbatchQuote(p.shardsDir))
	// A requeued job would find its directory taken: fail visibly instead.
	b.WriteString("#SBATCH --no-requeue\n")
	if p.flags.partition != "" {
		fmt.Fprintf(b, "#SBATCH --partition=%s\n", p.flags.partition)
	}
	if p.flags.timeLimit != "" {
		fmt.Fprintf(b, "#SBATCH --time=%s\n", p.flags.timeLimit)
	}
}

// submit writes the two scripts into DIR.shards and submits them: the
// array, then the merge job depending on it. If the merge job cannot be
// submitted (or a signal came), the array is cancelled.
func (p *submitPlan) submit(path map[string]string, exe string) (arrayID, mergeID string, err error) {
	_, statErr := os.Stat(p.shardsDir)
	created := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(p.shardsDir, 0o755); err != nil {
		return "", "", fmt.Errorf("submit: creating the shards' directory (from -o): %v", err)
	}
	arraySh := filepath.Join(p.shardsDir, "array.sh")
	mergeSh := filepath.Join(p.shardsDir, "merge.sh")
	cleanup := func() {
		os.Remove(arraySh)
		os.Remove(mergeSh)
		if created {
			os.Remove(p.shardsDir)
		}
	}
	for _, s := range []struct{ path, text string }{{arraySh, p.arrayScript(exe)}, {mergeSh, p.mergeScript(exe)}} {
		if err := os.WriteFile(s.path, []byte(s.text), 0o755); err != nil {
			cleanup()
			return "", "", fmt.Errorf("submit: writing the job script (from -o): %v", err)
		}
	}
	arrayID, err = sbatch(path["sbatch"], "--parsable", fmt.Sprintf("--array=0-%d", p.flags.shards-1), arraySh)
	if err != nil {
		cleanup()
		return "", "", fmt.Errorf("submit: submitting the job array: %v", err)
	}
	mergeID, err = sbatch(path["sbatch"], "--parsable", "--dependency=afterok:"+arrayID, "--kill-on-invalid-dep=yes", mergeSh)
	if err != nil {
		if cerr := runTool(path["scancel"], arrayID); cerr != nil {
			return "", "", fmt.Errorf("submit: submitting the merge job: %v; cancelling array job %s failed too (%v): cancel it with scancel", err, arrayID, cerr)
		}
		return "", "", fmt.Errorf("submit: submitting the merge job: %v; array job %s cancelled", err, arrayID)
	}
	return arrayID, mergeID, nil
}

// sbatch runs sbatch --parsable with args and returns the job id it
// printed ("id" or "id;cluster").
func sbatch(sbatchPath string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(sbatchPath, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", toolError("sbatch", err, stderr.String())
	}
	line := strings.TrimSpace(stdout.String())
	id, _, _ := strings.Cut(line, ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", line)
	}
	return id, nil
}

// runTool runs a Slurm command.
func runTool(path string, args ...string) error {
	_, err := toolOutput(path, args...)
	return err
}

// toolOutput runs a Slurm command and returns its stdout; the error quotes
// the last line of its stderr.
func toolOutput(path string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), toolError(filepath.Base(path), err, stderr.String())
	}
	return stdout.String(), nil
}

// toolError is a failed Slurm command as one line: its name, how it
// ended and the last line of its stderr.
func toolError(name string, err error, stderr string) error {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return fmt.Errorf("%s: %v: %s", name, err, last)
	}
	return fmt.Errorf("%s: %v", name, err)
}

// terminalStates are the job states that do not change any more.
var terminalStates = []string{"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
	"BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "REVOKED"}

// wait polls squeue until neither job is pending or running (or the
// deadline passed, or a signal came), then reads every shard's and the
// merge's final state with scontrol and reports them.
func (p *submitPlan) wait(path map[string]string, in *interrupt, arrayID, mergeID string, timeout time.Duration, stdout io.Writer) error {
	deadline := time.Now().Add(timeout)
	for failures := 0; ; {
		active, err := p.activeJobs(path["squeue"], arrayID, mergeID)
		switch {
		case err != nil:
			// The controller may be busy or restarting: keep asking.
			if failures++; failures >= maxPollFailures {
				return fmt.Errorf("submit: stopped waiting after %d failed polls (%v); array job %s and merge job %s go on", failures, err, arrayID, mergeID)
			}
		case len(active) == 0:
			return p.report(path["scontrol"], arrayID, mergeID, stdout)
		default:
			failures = 0
		}
		if !time.Now().Before(deadline) {
			what := "still pending or running: " + abbreviate(active, 8)
			if err != nil {
				what = "squeue failed: " + err.Error()
			}
			return fmt.Errorf("submit: -wait-timeout %v passed; array job %s and merge job %s go on (%s); results will be in %s", timeout, arrayID, mergeID, what, p.out)
		}
		for end := time.Now().Add(pollInterval); time.Now().Before(end); {
			if in.stopped() {
				return in.errorf("stopped waiting; array job %s and merge job %s go on (results will be in %s)", arrayID, mergeID, p.out)
			}
			time.Sleep(min(50*time.Millisecond, time.Until(end)))
		}
	}
}

// maxPollFailures is how many squeue failures in a row end submit -wait.
const maxPollFailures = 60

// activeJobs lists the array elements and jobs squeue reports in a state
// that can still change, as "id STATE".
func (p *submitPlan) activeJobs(squeue, arrayID, mergeID string) ([]string, error) {
	out, err := toolOutput(squeue, "-h", "--array", "-j", arrayID+","+mergeID, "-o", "%i %T")
	if err != nil {
		// Jobs the controller forgot: nothing is left to wait for.
		if strings.Contains(err.Error(), "Invalid job id") {
			return nil, nil
		}
		return nil, err
	}
	var active []string
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 2 && slices.Contains(terminalStates, fields[1]) {
			continue
		}
		if len(fields) > 0 {
			active = append(active, strings.Join(fields, " "))
		}
	}
	return active, nil
}

// abbreviate joins the first n of list and counts the rest.
func abbreviate(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:n], ", "), len(list)-n)
}

// jobState is a job's final state as scontrol shows it.
type jobState struct {
	state, reason, exit string
}

var (
	jobStateRE  = regexp.MustCompile(`(?:^| )JobState=(\S+)`)
	reasonRE    = regexp.MustCompile(`(?:^| )Reason=(\S+)`)
	exitCodeRE  = regexp.MustCompile(`(?:^| )ExitCode=(\S+)`)
	arrayTaskRE = regexp.MustCompile(`(?:^| )ArrayTaskId=(\S+)`)
)

// parseJobState reads one line of scontrol -o show job.
func parseJobState(line string) jobState {
	var s jobState
	if m := jobStateRE.FindStringSubmatch(line); m != nil {
		s.state = m[1]
	}
	if m := reasonRE.FindStringSubmatch(line); m != nil {
		s.reason = m[1]
	}
	if m := exitCodeRE.FindStringSubmatch(line); m != nil {
		s.exit = m[1]
	}
	return s
}

// taskIDs expands an ArrayTaskId value: "3", "0-3", "2,5-7", with an
// optional "%limit".
func taskIDs(s string) []int {
	s, _, _ = strings.Cut(s, "%")
	var ids []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || b < a || b-a > bench.MaxShards {
			continue
		}
		for i := a; i <= b; i++ {
			ids = append(ids, i)
		}
	}
	return ids
}

// report prints every shard's and the merge's final state, consecutive
// shards with the same one on one line, and fails unless all completed.
func (p *submitPlan) report(scontrol, arrayID, mergeID string, stdout io.Writer) error {
	shards := make([]jobState, p.flags.shards)
	out, err := toolOutput(scontrol, "-o", "show", "job", arrayID)
	if err != nil {
		return fmt.Errorf("submit: the jobs ended, but their states cannot be read: %v (logs in %s)", err, p.shardsDir)
	}
	// The tasks of an array cancelled before they started are one record
	// without a task id (ArrayTaskId=4294967294): they have its state.
	var rest jobState
	for _, line := range strings.Split(out, "\n") {
		m := arrayTaskRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		matched := false
		for _, i := range taskIDs(m[1]) {
			if i < len(shards) {
				shards[i], matched = parseJobState(line), true
			}
		}
		if !matched {
			rest = jobState{state: parseJobState(line).state}
		}
	}
	for i := range shards {
		if shards[i].state == "" {
			shards[i] = rest
		}
	}
	var merge jobState
	if out, err := toolOutput(scontrol, "-o", "show", "job", mergeID); err == nil {
		merge = parseJobState(out)
	}

	describe := func(s jobState, log string) string {
		switch s.state {
		case "COMPLETED":
			return s.state
		case "":
			return "UNKNOWN (scontrol does not show it)"
		}
		d := s.state
		if s.exit != "" && s.exit != "0:0" {
			d += " (exit code " + s.exit + ")"
		} else if s.reason != "" && s.reason != "None" {
			d += " (" + s.reason + ")"
		}
		if _, err := os.Stat(log); err == nil {
			d += "; log " + log
		}
		return d
	}
	var b strings.Builder
	var bad []string
	for i := 0; i < len(shards); {
		d := describe(shards[i], filepath.Join(p.shardsDir, fmt.Sprintf("slurm-%s_%d.out", arrayID, i)))
		j := i + 1
		for j < len(shards) && shards[j].state == "COMPLETED" && shards[i].state == "COMPLETED" {
			j++
		}
		if j == i+1 {
			fmt.Fprintf(&b, "shard %d: %s\n", i, d)
		} else {
			fmt.Fprintf(&b, "shards %d-%d: %s\n", i, j-1, d)
		}
		for k := i; k < j; k++ {
			if shards[k].state != "COMPLETED" {
				bad = append(bad, fmt.Sprintf("shard %d %s", k, cmp.Or(shards[k].state, "UNKNOWN")))
			}
		}
		i = j
	}
	fmt.Fprintf(&b, "merge: %s\n", describe(merge, filepath.Join(p.shardsDir, "slurm-merge-"+mergeID+".out")))
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return err
	}
	var problems []string
	switch len(bad) {
	case 0:
	case 1:
		problems = append(problems, bad[0])
	default:
		problems = append(problems, fmt.Sprintf("%d of %d shards did not complete (%s)", len(bad), len(shards), abbreviate(bad, 3)))
	}
	if merge.state != "COMPLETED" {
		problems = append(problems, "merge "+cmp.Or(merge.state, "UNKNOWN"))
	}
	if len(problems) > 0 {
		return fmt.Errorf("submit: %s: no merged results in %s (logs in %s)", strings.Join(problems, ", "), p.out, p.shardsDir)
	}
	_, err = fmt.Fprintf(stdout, "merged results in %s\n", p.out)
	return err
}
