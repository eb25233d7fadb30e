package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeSlurm is a directory of fake sbatch, scancel, squeue and scontrol
// scripts, first in PATH, that log their arguments (one line a call, each
// argument in brackets) and answer what the test put in files:
//
//   - sbatch prints the next word of $FAKE_SBATCH_IDS (job ids), and fails
//     on call number $FAKE_SBATCH_FAIL;
//   - squeue creates the files $FAKE_SQUEUE_TOUCH names (Slurm's logs),
//     and prints file squeue.<call number>, nothing when it is absent, or
//     squeue.1 every time with $FAKE_SQUEUE_REPEAT set;
//   - scontrol prints file scontrol.<job id> (its last argument), or fails
//     as for a job the controller forgot.
type fakeSlurm struct {
	dir string
}

const fakeSlurmScript = `#!/bin/sh
d=$(dirname "$0")
name=$(basename "$0")
{ printf '%s' "$name"; for a in "$@"; do printf ' [%s]' "$a"; done; echo; } >>"$d/log"
n=$(cat "$d/$name.calls" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n >"$d/$name.calls"
case $name in
sbatch)
	if [ "$n" = "${FAKE_SBATCH_FAIL:-0}" ]; then
		echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2
		exit 1
	fi
	echo "$FAKE_SBATCH_IDS" | cut -d' ' -f$n
	;;
squeue)
	for f in $FAKE_SQUEUE_TOUCH; do
		: >>"$f"
	done
	if [ -n "$FAKE_SQUEUE_REPEAT" ]; then
		cat "$d/squeue.1"
	elif [ -f "$d/squeue.$n" ]; then
		cat "$d/squeue.$n"
	fi
	;;
scontrol)
	for last; do :; done
	if [ -f "$d/scontrol.$last" ]; then
		cat "$d/scontrol.$last"
	else
		echo "slurm_load_jobs error: Invalid job id specified" >&2
		exit 1
	fi
	;;
esac
`

// newFakeSlurm installs the fake commands (only those named, all by
// default) first in PATH, and a fake pagelab that prints its arguments one
// a line and GOMAXPROCS, as the jobs' binary.
func newFakeSlurm(t *testing.T, names ...string) *fakeSlurm {
	t.Helper()
	if len(names) == 0 {
		names = []string{"sbatch", "scancel", "squeue", "scontrol"}
	}
	f := &fakeSlurm{dir: t.TempDir()}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(fakeSlurmScript), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// In a directory whose name needs quoting in sh.
	fakePagelab := filepath.Join(f.dir, `it's "a" $HOME \ dir`, "pagelab")
	if err := os.Mkdir(filepath.Dir(fakePagelab), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fakePagelab, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" \"GOMAXPROCS=$GOMAXPROCS\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", f.dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SBATCH_IDS", "12;cluster 13")
	t.Setenv("FAKE_SBATCH_FAIL", "")
	t.Setenv("FAKE_SQUEUE_REPEAT", "")
	t.Setenv("FAKE_SQUEUE_TOUCH", "")
	old := submitExecutable
	submitExecutable = func() (string, error) { return fakePagelab, nil }
	t.Cleanup(func() { submitExecutable = old })
	oldPoll := pollInterval
	pollInterval = 10 * time.Millisecond
	t.Cleanup(func() { pollInterval = oldPoll })
	return f
}

// log is what the fake commands were called with, one line a call.
func (f *fakeSlurm) log(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "log"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// answer makes a fake command print text: file is squeue.<n> or
// scontrol.<job id>.
func (f *fakeSlurm) answer(t *testing.T, file, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, file), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runScript runs a job script as Slurm would, in the environment env, and
// returns what the fake pagelab printed: its arguments, one a line.
func runScript(t *testing.T, script string, env ...string) []string {
	t.Helper()
	cmd := exec.Command("/bin/sh", script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh %s: %v\n%s", script, err, out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// TestSubmitScripts submits through fake sbatch and checks the scripts —
// run with sh: the binary's path and the results directory, with quotes,
// spaces and '$', survive — the array range, the dependency and the job
// id parsing ("12;cluster").
func TestSubmitScripts(t *testing.T) {
	f := newFakeSlurm(t)
	tmp := t.TempDir()
	t.Chdir(tmp)
	rel := filepath.Join("runs", `r1's "x" $HOME #1`)
	stdout, _, err := runCLI("submit", "-shards", "4", "-partition", "debug", "-time-limit", "1-00:30", "-cpus-per-task", "3", "-mem", "4G", "--",
		"bench", "-workload", "writeback-restart", "-fix", "baseline,hold-ref+loop-wait", "-runs=100", "-noplots", "--count", "4", "-o", rel)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, rel)
	shards := out + ".shards"
	want := "submitted array job 12 (4 shards) and merge job 13; results in " + out + "\n"
	if stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	log := f.log(t)
	wantLog := []string{
		"sbatch [--parsable] [--array=0-3] [" + shards + "/array.sh]",
		"sbatch [--parsable] [--dependency=afterok:12] [--kill-on-invalid-dep=yes] [" + shards + "/merge.sh]",
	}
	if !slices.Equal(log, wantLog) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(wantLog, "\n"))
	}

	array, err := os.ReadFile(filepath.Join(shards, "array.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"#!/bin/sh\n",
		"\n#SBATCH --job-name=pagelab-bench\n",
		"\n#SBATCH --output=" + sbatchQuote(shards+"/slurm-%A_%a.out") + "\n",
		"\n#SBATCH --chdir=" + sbatchQuote(shards) + "\n",
		"\n#SBATCH --partition=debug\n",
		"\n#SBATCH --time=1-00:30\n",
		"\n#SBATCH --cpus-per-task=3\n",
		"\n#SBATCH --mem=4G\n",
	} {
		if !strings.Contains(string(array), line) {
			t.Errorf("array.sh lacks %q:\n%s", line, array)
		}
	}
	if !strings.HasPrefix(string(array), "#!/bin/sh\n") {
		t.Errorf("array.sh does not start with #!/bin/sh:\n%s", array)
	}
	got := runScript(t, filepath.Join(shards, "array.sh"), "SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=4", "HOME=/nonexistent")
	wantArgs := []string{"bench", "-workload", "writeback-restart", "-fix", "baseline,hold-ref+loop-wait", "-runs=100", "-noplots", "--count", "4",
		"-o", shards + "/2", "GOMAXPROCS=3"}
	if !slices.Equal(got, wantArgs) {
		t.Errorf("array.sh ran pagelab with\n%q\nwant\n%q", got, wantArgs)
	}

	merge, err := os.ReadFile(filepath.Join(shards, "merge.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"\n#SBATCH --job-name=pagelab-merge\n",
		"\n#SBATCH --output=" + sbatchQuote(shards+"/slurm-merge-%j.out") + "\n",
		"\n#SBATCH --partition=debug\n",
		"\n#SBATCH --time=1-00:30\n",
	} {
		if !strings.Contains(string(merge), line) {
			t.Errorf("merge.sh lacks %q:\n%s", line, merge)
		}
	}
	got = runScript(t, filepath.Join(shards, "merge.sh"))
	wantArgs = []string{"merge", out, shards + "/0", shards + "/1", shards + "/2", shards + "/3", "GOMAXPROCS="}
	if !slices.Equal(got, wantArgs) {
		t.Errorf("merge.sh ran pagelab with\n%q\nwant\n%q", got, wantArgs)
	}
}

// TestSubmitQuoting: an argument with quotes, spaces and what sh expands
// survives shQuote through sh.
func TestSubmitQuoting(t *testing.T) {
	for _, s := range []string{"", "plain", `it's a "b" $HOME \ $(false) ` + "`false` *\n'", "''"} {
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+shQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh printed %q for shQuote(%q) (%v)", out, s, err)
		}
	}
}

// TestSubmitOddDirectory: a results directory with spaces, quotes and '#'
// reaches the #SBATCH lines quoted as sbatch reads them.
func TestSubmitOddDirectory(t *testing.T) {
	newFakeSlurm(t)
	out := filepath.Join(t.TempDir(), `a b"c#d'e`)
	if _, _, err := runCLI("submit", "-shards", "1", "--", "bench", "-o", out); err != nil {
		t.Fatal(err)
	}
	array, err := os.ReadFile(filepath.Join(out+".shards", "array.sh"))
	if err != nil {
		t.Fatal(err)
	}
	want := `#SBATCH --chdir="` + strings.NewReplacer(`"`, `\"`, `#`, `\#`).Replace(out) + `.shards"`
	if !strings.Contains(string(array), want+"\n") {
		t.Errorf("array.sh lacks %s:\n%s", want, array)
	}
	got := runScript(t, filepath.Join(out+".shards", "array.sh"), "SLURM_ARRAY_TASK_ID=0")
	if i := slices.Index(got, "-o"); i < 0 || got[i+1] != out+".shards/0" {
		t.Errorf("array.sh ran pagelab with %q, want -o %s.shards/0", got, out)
	}
}

// TestSubmitMergeFails: when the merge job cannot be submitted, the array
// is cancelled and the error says so (exit status 1).
func TestSubmitMergeFails(t *testing.T) {
	f := newFakeSlurm(t)
	t.Setenv("FAKE_SBATCH_FAIL", "2")
	_, _, err := runCLI("submit", "-shards", "3", "--", "bench", "-o", filepath.Join(t.TempDir(), "r"))
	if err == nil || exitStatus(err) != 1 {
		t.Fatalf("err %v (status %d), want an error with status 1", err, exitStatus(err))
	}
	for _, s := range []string{"merge job", "Invalid partition name", "array job 12 cancelled"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	log := f.log(t)
	if len(log) != 3 || log[2] != "scancel [12]" {
		t.Errorf("calls %q, want two sbatch then scancel [12]", log)
	}
}

// TestSubmitArrayFails: when the array cannot be submitted, nothing is
// cancelled and the shards' directory submit made is gone.
func TestSubmitArrayFails(t *testing.T) {
	f := newFakeSlurm(t)
	t.Setenv("FAKE_SBATCH_FAIL", "1")
	out := filepath.Join(t.TempDir(), "r")
	_, _, err := runCLI("submit", "-shards", "3", "--", "bench", "-o", out)
	if err == nil || exitStatus(err) != 1 || !strings.Contains(err.Error(), "job array") {
		t.Fatalf("err %v (status %d), want one about the job array with status 1", err, exitStatus(err))
	}
	if log := f.log(t); len(log) != 1 {
		t.Errorf("calls %q, want only the first sbatch", log)
	}
	if _, err := os.Stat(out + ".shards"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s.shards left behind (%v)", out, err)
	}
}

// TestSubmitBadSbatchOutput: sbatch printing something else than a job id
// is an error, not a job id.
func TestSubmitBadSbatchOutput(t *testing.T) {
	newFakeSlurm(t)
	t.Setenv("FAKE_SBATCH_IDS", "Submitted")
	_, _, err := runCLI("submit", "-shards", "2", "--", "bench", "-o", filepath.Join(t.TempDir(), "r"))
	if err == nil || !strings.Contains(err.Error(), `"Submitted", not a job id`) {
		t.Fatalf("err %v, want one quoting sbatch's output", err)
	}
}

// TestSubmitUsage: bad input is a one-line usage error (exit status 2)
// naming the problem, and nothing is submitted.
func TestSubmitUsage(t *testing.T) {
	f := newFakeSlurm(t)
	tmp := t.TempDir()
	full := filepath.Join(tmp, "full")
	if err := os.MkdirAll(filepath.Join(full, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, "stale.shards", "0"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := filepath.Join(tmp, "r")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-shards", "4", "bench", "-o", o}, "no '--'"},
		{[]string{"-shards", "4"}, "no '--'"},
		{[]string{"-shards", "4", "--"}, "nothing after '--': want bench"},
		{[]string{"-shards", "4", "--", "run", "-o", o}, `"run" after '--': want bench`},
		{[]string{"-shards", "4", "--", "bench", "-runs", "10"}, "need -o DIR"},
		{[]string{"-shards", "4", "--", "bench", "-o"}, "-o in the bench flags needs a directory"},
		{[]string{"-shards", "4", "--", "bench", "-o="}, "-o in the bench flags needs a directory"},
		{[]string{"-shards", "4", "--", "bench", "-o", o, "-o", o + "2"}, "-o given twice"},
		{[]string{"-shards", "4", "--", "bench", "-shard", "1/4", "-o", o}, "-shard in the bench flags"},
		{[]string{"-shards", "4", "--", "bench", "--shards=4", "-o", o}, "-shards in the bench flags"},
		{[]string{"-shards", "4", "--", "bench", "-label", "x"}, "-label in the bench flags"},
		{[]string{"-shards", "4", "--", "bench", "-o", o, "-nosuch", "1"}, "bench has no flag -nosuch (valid: "},
		{[]string{"-shards", "4", "--", "bench", "-o", o, "extra"}, `unexpected argument "extra"`},
		{[]string{"-shards", "4", "--", "bench", "-o", o, "--", "-runs", "1"}, `unexpected argument "--"`},
		{[]string{"-shards", "16", "--", "bench", "-o", o}, "bench -count 6 (bench's default) is below -shards 16"},
		{[]string{"-shards", "4", "--", "bench", "-runs=3", "-o", o}, "bench -runs 3 is below -shards 4"},
		{[]string{"-shards", "4", "--", "bench", "-workload", "nosuch", "-o", o}, `submit: bench: unknown workload "nosuch"`},
		{[]string{"-shards", "4", "--", "bench", "-workload", "lock-storm", "-fix", "v5.8,nosuch", "-o", o}, `submit: bench: unknown fix "nosuch"`},
		{[]string{"-shards", "4", "--", "bench", "-fix", "v5.8+v5.8+", "-o", o}, "submit: bench: "},
		{[]string{"-shards", "4", "--", "bench", "-cpus", "4,0", "-o", o}, `submit: bench: bad -cpus "0"`},
		{[]string{"-shards", "4", "--", "bench", "-max-memory", "1KiB", "-o", o}, `submit: bench -max-memory "1KiB"`},
		{[]string{"-shards", "4", "--", "bench", "-o", full}, "already exists and is not empty"},
		{[]string{"-shards", "4", "--", "bench", "-o", filepath.Join(tmp, "stale")}, "stale.shards already exists"},
		{[]string{"-shards", "4", "--", "bench", "-o", filepath.Join(tmp, "100%")}, "sbatch cannot take a path with '%'"},
		{[]string{"-shards", "4", "--", "bench", "-o", "/"}, "-o /: want a directory"},
		{[]string{"-shards", "0", "--", "bench", "-o", o}, "-shards 0 out of range (valid: 1 to 10000)"},
		{[]string{"--", "bench", "-o", o}, "-shards 0 out of range"},
		{[]string{"-shards", "10001", "--", "bench", "-o", o}, "-shards 10001 out of range"},
		{[]string{"-shards", "4", "-partition", "a b", "--", "bench", "-o", o}, `bad -partition "a b"`},
		{[]string{"-shards", "4", "-time-limit", "1h", "--", "bench", "-o", o}, `bad -time-limit "1h"`},
		{[]string{"-shards", "4", "-mem", "lots", "--", "bench", "-o", o}, `bad -mem "lots"`},
		{[]string{"-shards", "4", "-cpus-per-task", "0", "--", "bench", "-o", o}, "-cpus-per-task 0 out of range"},
		{[]string{"-shards", "4", "-wait-timeout", "0s", "--", "bench", "-o", o}, "-wait-timeout 0s"},
		{[]string{"-shards", "4", "-nosuch", "--", "bench", "-o", o}, "submit: flag provided but not defined: -nosuch (valid flags:"},
	}
	for _, tc := range tests {
		stdout, _, err := runCLI(append([]string{"submit"}, tc.args...)...)
		name := "submit " + strings.Join(tc.args, " ")
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%s: err %v, want a usage error", name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "submit: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want one line starting submit: containing %q", name, err, tc.want)
		}
		if stdout != "" {
			t.Errorf("%s: stdout %q", name, stdout)
		}
	}
	if log := f.log(t); log != nil {
		t.Errorf("bad input reached Slurm: %q", log)
	}
	if _, err := os.Stat(o + ".shards"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bad input created %s.shards", o)
	}
}

// TestSubmitHelp: -h says the directory and the binary must be on shared
// storage, and lists the flags.
func TestSubmitHelp(t *testing.T) {
	stdout, _, err := runCLI("submit", "-h")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"usage: pagelab submit -shards N", "-- bench", "DIR.shards/i", "shared file", "-wait-timeout", "-partition"} {
		if !strings.Contains(strings.Join(strings.Fields(stdout), " "), s) {
			t.Errorf("help lacks %q:\n%s", s, stdout)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		if len(line) > 79 {
			t.Errorf("help line wider than 79 columns: %q", line)
		}
	}
}

// TestSubmitMissingTool: a Slurm command missing from PATH is an error
// naming it (exit status 1, not bad input).
func TestSubmitMissingTool(t *testing.T) {
	f := newFakeSlurm(t, "sbatch", "scancel")
	empty := t.TempDir()
	old := os.Getenv("PATH")
	o := filepath.Join(t.TempDir(), "r")
	// Only the fakes: the machine may have the real squeue.
	t.Setenv("PATH", f.dir)
	_, _, err := runCLI("submit", "-shards", "2", "-wait", "--", "bench", "-o", o)
	if err == nil || exitStatus(err) != 1 || !strings.Contains(err.Error(), "submit: squeue not found in PATH: is this a Slurm login node?") {
		t.Errorf("without squeue: err %v (status %d)", err, exitStatus(err))
	}
	t.Setenv("PATH", empty)
	_, _, err = runCLI("submit", "-shards", "2", "--", "bench", "-o", o)
	if err == nil || exitStatus(err) != 1 || !strings.Contains(err.Error(), "submit: sbatch not found in PATH") {
		t.Errorf("without sbatch: err %v (status %d)", err, exitStatus(err))
	}
	t.Setenv("PATH", old)
	if _, err := os.Stat(o + ".shards"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing command left %s.shards", o)
	}
}

// scontrolLine is one line of scontrol -o show job, shortened.
func scontrolLine(jobID, arrayID, task, state, reason, exit string) string {
	s := "JobId=" + jobID
	if arrayID != "" {
		s += " ArrayJobId=" + arrayID + " ArrayTaskId=" + task
	}
	return s + " JobName=pagelab-bench UserId=root(0) JobState=" + state + " Reason=" + reason +
		" Dependency=(null) Requeue=0 ExitCode=" + exit + " RunTime=00:00:02 Command=/x/array.sh\n"
}

// TestSubmitWaitFailedShard: -wait polls squeue until the jobs are gone,
// reports each shard's state from scontrol, and fails naming the failed
// shard and the cancelled merge.
func TestSubmitWaitFailedShard(t *testing.T) {
	f := newFakeSlurm(t)
	f.answer(t, "squeue.1", "12_0 RUNNING\n12_1 RUNNING\n12_2 PENDING\n12_3 PENDING\n12_4 PENDING\n13 PENDING\n")
	f.answer(t, "squeue.2", "12_1 COMPLETED\n12_2 RUNNING\n13 PENDING\n")
	// Task 4 never started: the array's own record, without a task id.
	f.answer(t, "scontrol.12", scontrolLine("12", "12", "4294967294", "CANCELLED", "Resources", "0:0")+
		scontrolLine("15", "12", "2", "FAILED", "NonZeroExitCode", "2:0")+
		scontrolLine("14", "12", "1", "COMPLETED", "None", "0:0")+
		scontrolLine("16", "12", "0", "COMPLETED", "None", "0:0")+
		scontrolLine("17", "12", "3", "COMPLETED", "None", "0:0"))
	f.answer(t, "scontrol.13", scontrolLine("13", "", "", "CANCELLED", "DependencyNeverSatisfied", "0:0"))
	o := filepath.Join(t.TempDir(), "r")
	t.Setenv("FAKE_SQUEUE_TOUCH", o+".shards/slurm-12_2.out "+o+".shards/slurm-merge-13.out")
	stdout, _, err := runCLI("submit", "-shards", "5", "-wait", "--", "bench", "-o", o)
	if err == nil || exitStatus(err) != 1 {
		t.Fatalf("err %v (status %d), want an error with status 1", err, exitStatus(err))
	}
	for _, s := range []string{"2 of 5 shards did not complete (shard 2 FAILED, shard 4 CANCELLED)", "merge CANCELLED", "no merged results in " + o} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	want := "submitted array job 12 (5 shards) and merge job 13; results in " + o + "\n" +
		"shards 0-1: COMPLETED\n" +
		"shard 2: FAILED (exit code 2:0); log " + o + ".shards/slurm-12_2.out\n" +
		"shard 3: COMPLETED\n" +
		"shard 4: CANCELLED\n" +
		"merge: CANCELLED (DependencyNeverSatisfied); log " + o + ".shards/slurm-merge-13.out\n"
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}
	var squeue, scontrol []string
	for _, l := range f.log(t) {
		if strings.HasPrefix(l, "squeue ") {
			squeue = append(squeue, l)
		}
		if strings.HasPrefix(l, "scontrol ") {
			scontrol = append(scontrol, l)
		}
	}
	if len(squeue) != 3 || squeue[0] != "squeue [-h] [--array] [-j] [12,13] [-o] [%i %T]" {
		t.Errorf("squeue calls %q, want 3 of squeue -h --array -j 12,13 -o '%%i %%T'", squeue)
	}
	if !slices.Equal(scontrol, []string{"scontrol [-o] [show] [job] [12]", "scontrol [-o] [show] [job] [13]"}) {
		t.Errorf("scontrol calls %q", scontrol)
	}
}

// TestSubmitWaitCompleted: every shard and the merge completed, with a
// pending range split into elements by then: success, one line for all.
func TestSubmitWaitCompleted(t *testing.T) {
	f := newFakeSlurm(t)
	f.answer(t, "squeue.1", "12_0 RUNNING\n12_1 RUNNING\n12_2 PENDING\n12_3 PENDING\n13 PENDING\n")
	f.answer(t, "squeue.2", "13 RUNNING\n")
	f.answer(t, "scontrol.12", scontrolLine("12", "12", "0", "COMPLETED", "None", "0:0")+
		scontrolLine("14", "12", "1", "COMPLETED", "None", "0:0")+
		scontrolLine("15", "12", "2-3", "COMPLETED", "None", "0:0"))
	f.answer(t, "scontrol.13", scontrolLine("13", "", "", "COMPLETED", "None", "0:0"))
	o := filepath.Join(t.TempDir(), "r")
	stdout, _, err := runCLI("submit", "-shards", "4", "-wait", "--", "bench", "-o", o)
	if err != nil {
		t.Fatal(err)
	}
	want := "submitted array job 12 (4 shards) and merge job 13; results in " + o + "\n" +
		"shards 0-3: COMPLETED\nmerge: COMPLETED\nmerged results in " + o + "\n"
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}
}

// TestSubmitWaitForgotten: jobs the controller no longer shows (squeue and
// scontrol: invalid job id) are UNKNOWN, an error.
func TestSubmitWaitForgotten(t *testing.T) {
	newFakeSlurm(t)
	o := filepath.Join(t.TempDir(), "r")
	_, _, err := runCLI("submit", "-shards", "2", "-wait", "--", "bench", "-o", o)
	if err == nil || !strings.Contains(err.Error(), "states cannot be read") || !strings.Contains(err.Error(), "Invalid job id") {
		t.Fatalf("err %v, want one saying the states cannot be read", err)
	}
}

// TestSubmitWaitTimeout: past -wait-timeout, submit fails naming the jobs
// still pending or running.
func TestSubmitWaitTimeout(t *testing.T) {
	f := newFakeSlurm(t)
	t.Setenv("FAKE_SQUEUE_REPEAT", "1")
	f.answer(t, "squeue.1", "12_0 COMPLETED\n12_1 RUNNING\n13 PENDING\n")
	o := filepath.Join(t.TempDir(), "r")
	_, _, err := runCLI("submit", "-shards", "2", "-wait", "-wait-timeout", "100ms", "--", "bench", "-o", o)
	if err == nil || exitStatus(err) != 1 {
		t.Fatalf("err %v (status %d), want an error with status 1", err, exitStatus(err))
	}
	for _, s := range []string{"-wait-timeout 100ms passed", "still pending or running: 12_1 RUNNING, 13 PENDING", "go on"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

// TestSubmitWaitInterrupted: SIGTERM during -wait stops the waiting (the
// jobs go on, nothing is cancelled) with exit status 143.
func TestSubmitWaitInterrupted(t *testing.T) {
	f := newFakeSlurm(t)
	t.Setenv("FAKE_SQUEUE_REPEAT", "1")
	f.answer(t, "squeue.1", "12_0 RUNNING\n13 PENDING\n")
	o := filepath.Join(t.TempDir(), "r")
	cmd, stdout, stderr := startMain(t, t.TempDir(), "submit", "-shards", "1", "-wait", "--", "bench", "-o", o)
	// Signal once it polls: the handler is installed by then.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(f.dir, "squeue.calls")); len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("submit -wait never polled squeue")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	status, killed := exitOf(t, cmd.Wait())
	if killed || status != 143 {
		t.Fatalf("status %d (killed %v), want 143; stderr %q", status, killed, stderr)
	}
	if !strings.Contains(stdout.String(), "submitted array job 12") {
		t.Errorf("stdout %q lacks the submission", stdout)
	}
	if !strings.Contains(stderr.String(), "interrupted (SIGTERM): stopped waiting; array job 12 and merge job 13 go on") {
		t.Errorf("stderr %q", stderr)
	}
	for _, l := range f.log(t) {
		if strings.HasPrefix(l, "scancel") {
			t.Errorf("the interrupt cancelled a job: %s", l)
		}
	}
}

// TestSubmitTaskIDs: the ArrayTaskId forms scontrol shows.
func TestSubmitTaskIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"3", []int{3}}, {"0-3", []int{0, 1, 2, 3}}, {"1,4-5", []int{1, 4, 5}}, {"2-3%1", []int{2, 3}}, {"x", nil}, {"5-2", nil},
	} {
		if got := taskIDs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("taskIDs(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestSubmitSlurm is the real thing, on the Slurm that SLURM_CONF (or the
// machine's configuration) names — .ci/run brings one up with
// scripts/slurm-local.sh: a small matrix submitted as 4 shards and merged
// must give the files of the same bench run unsharded, byte for byte,
// except manifest.json. Without Slurm it is skipped, or fails under
// CI=true.
func TestSubmitSlurm(t *testing.T) {
	need := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format+" (CI needs it: .ci/run brings it up with scripts/slurm-local.sh)", args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		need("no Slurm: sbatch not in PATH")
	}
	if out, err := exec.Command("sinfo", "-h").CombinedOutput(); err != nil {
		need("no Slurm controller answers: sinfo -h: %v: %s", err, bytes.TrimSpace(out))
	}
	// The local run is the whole one, even inside a job array.
	for _, v := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"} {
		t.Setenv(v, "")
	}
	// The jobs, maybe run as another user by slurmd, read the binary and
	// write the results here.
	tmp := t.TempDir()
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(tmp, "pagelab")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flags := []string{"-workload", "writeback-restart,lock-storm", "-fix", "all", "-runs", "2000", "-count", "4", "-cpus", "4",
		"-verify-states", "2000", "-noplots"}
	a, b := filepath.Join(tmp, "A"), filepath.Join(tmp, "B")
	if out, err := exec.Command(exe, append(append([]string{"bench"}, flags...), "-o", a)...).CombinedOutput(); err != nil {
		t.Fatalf("pagelab bench: %v\n%s", err, out)
	}
	args := append([]string{"submit", "-shards", "4", "-wait", "-wait-timeout", "3m", "--", "bench"}, flags...)
	out, err := exec.Command(exe, append(args, "-o", b)...).CombinedOutput()
	t.Logf("pagelab submit:\n%s", out)
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(b+".shards", "slurm-*.out"))
		for _, l := range logs {
			text, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, text)
		}
		t.Fatalf("pagelab submit: %v", err)
	}
	if !strings.Contains(string(out), "shards 0-3: COMPLETED\nmerge: COMPLETED\nmerged results in "+b+"\n") {
		t.Errorf("submit did not report every shard and the merge completed")
	}
	sameTree(t, a, b)
}

// TestKubeManifest checks deploy/kubernetes/pagelab-bench.yaml without a
// YAML library: the bench Job is Indexed, its -shards equals its
// completions (and parallelism), each index writes <OUT>.shards/<index>
// as submit's shards do, and the merge Job names every shard.
func TestKubeManifest(t *testing.T) {
	b, err := os.ReadFile("../../deploy/kubernetes/pagelab-bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	find := func(name string) string {
		for _, d := range docs {
			if regexp.MustCompile(`(?m)^kind: Job$`).MatchString(d) && regexp.MustCompile(`(?m)^  name: `+name+`$`).MatchString(d) {
				return d
			}
		}
		t.Fatalf("no Job named %s in the manifest", name)
		return ""
	}
	field := func(doc, re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("no match for %s in\n%s", re, doc)
		}
		return m[1]
	}
	job := find("pagelab-bench")
	if field(job, `(?m)^  completionMode: (\S+)$`) != "Indexed" {
		t.Error("pagelab-bench: completionMode is not Indexed")
	}
	completions := field(job, `(?m)^  completions: (\d+)$`)
	if p := field(job, `(?m)^  parallelism: (\d+)$`); p != completions {
		t.Errorf("parallelism %s, completions %s", p, completions)
	}
	if s := field(job, `"-shards", "(\d+)"`); s != completions {
		t.Errorf("bench -shards %s, but completions %s", s, completions)
	}
	out := field(job, `"-o", "([^"]+)\.shards/\$\(JOB_COMPLETION_INDEX\)"`)
	if !strings.Contains(job, "fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']") {
		t.Error("pagelab-bench: JOB_COMPLETION_INDEX is not defined from the completion-index annotation")
	}
	n, _ := strconv.Atoi(completions)
	merge := find("pagelab-merge")
	want := `"merge", "` + out + `"`
	for i := range n {
		want += `, "` + out + ".shards/" + strconv.Itoa(i) + `"`
	}
	if !strings.Contains(merge, want) {
		t.Errorf("pagelab-merge does not run %s]", want)
	}
	for _, d := range []string{job, merge} {
		if !strings.Contains(d, "claimName: pagelab-results") || !strings.Contains(d, "mountPath: /results") {
			t.Error("a Job does not mount the pagelab-results claim at /results")
		}
	}
	if !strings.Contains(string(b), "ReadWriteMany") {
		t.Error("the results claim is not ReadWriteMany")
	}
	if bytes.Contains(b, []byte("\t")) {
		t.Error("the manifest contains a tab")
	}
}
