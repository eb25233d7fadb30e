package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Manifest describes a results directory: how it was made and whether it
// is complete.
type Manifest struct {
	Command     []string `json:"command"`
	GitRevision string   `json:"git_revision"`
	GoVersion   string   `json:"go_version"`
	Host        Host     `json:"host"`
	Seed        uint64   `json:"seed"`
	Runs        int      `json:"runs"`  // executions per explored cell
	Count       int      `json:"count"` // executions per timed cell
	CPUs        []int    `json:"cpus"`
	Workloads   []string `json:"workloads"`
	Start       string   `json:"start"` // RFC 3339, UTC
	End         string   `json:"end"`
	// Complete is false when the run was interrupted: the files hold
	// the cells that finished (and the runs of the one that was cut).
	Complete   bool `json:"complete"`
	Cells      int  `json:"cells"`
	CellsTotal int  `json:"cells_total"`
	// Absent: the directory had no manifest.json (ReadResults). Its
	// records are read as a complete run, but the revision, seed and
	// whether the run finished are unknown, and readers say so.
	Absent bool `json:"-"`
	// The exhaustive search of the explored cells (absent when it was
	// off): the state budget per cell, the searches finished of those
	// planned, and the wall-clock seconds of each, by cell (Record.Key).
	VerifyStates     int                `json:"verify_states,omitempty"`
	VerifyCells      int                `json:"verify_cells,omitempty"`
	VerifyCellsTotal int                `json:"verify_cells_total,omitempty"`
	VerifySeconds    map[string]float64 `json:"verify_seconds,omitempty"`
	// VerifyErrors are the searches that failed (not a verdict: an error
	// of the model or the search); their cells have no verdicts.
	VerifyErrors []string `json:"verify_errors,omitempty"`
	Files        []string `json:"files"`
	// Plan fingerprints the cells run (bench.Plan); NoPlots is -noplots.
	Plan    string `json:"plan,omitempty"`
	NoPlots bool   `json:"noplots,omitempty"`
	// Shard is set in a shard's directory (pagelab bench -shard i/n):
	// its records hold executions ShardRange(runs, i, n) of every cell and
	// the searches of the cells j with j mod n = i. Shards lists, in a
	// directory pagelab merge made, the shards it was made from.
	Shard  *ShardID    `json:"shard,omitempty"`
	Shards []ShardInfo `json:"shards,omitempty"`
}

// ShardInfo is one shard of a merged directory: where, when and how it ran.
type ShardInfo struct {
	Index   int      `json:"index"`
	Dir     string   `json:"dir"`
	Command []string `json:"command"`
	Host    Host     `json:"host"`
	Start   string   `json:"start"`
	End     string   `json:"end"`
}

// Host is where the run was made.
type Host struct {
	Hostname string `json:"hostname"`
	GOOS     string `json:"goos"`
	GOARCH   string `json:"goarch"`
	CPUs     int    `json:"cpus"`
}

// Result files of a directory.
const (
	ResultsFile  = "results.jsonl"
	BenchFile    = "bench.txt"
	SummaryFile  = "summary.txt"
	ManifestFile = "manifest.json"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that a reader never sees half a file. The file
// gets mode 0644 less the umask, as os.WriteFile would give it (CreateTemp's
// temporary files are 0600: results are meant to be shared).
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes data to a new temporary file beside path, mode 0644
// less the umask, and returns its name.
func writeTemp(path string, data []byte) (string, error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	if err := f.Chmod(0o644 &^ umask()); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// WriteResults writes the records, the benchmark-format file and the
// summary, then the manifest (last, so that a manifest always describes
// files that are there). Every file is written atomically. A record whose
// verdicts contradict its counts (CheckVerdicts) is an error, and nothing
// is written.
func WriteResults(dir string, m *Manifest, recs []*Record) error {
	for _, r := range recs {
		if err := r.CheckVerdicts(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	jb, err := recordsJSON(recs)
	if err != nil {
		return err
	}
	var bb bytes.Buffer
	if err := WriteBenchFile(&bb, m, recs); err != nil {
		return err
	}
	summary := Summary(m, recs)
	files := map[string][]byte{ResultsFile: jb, BenchFile: bb.Bytes(), SummaryFile: []byte(summary)}
	for _, name := range []string{ResultsFile, BenchFile, SummaryFile} {
		if err := WriteFileAtomic(filepath.Join(dir, name), files[name]); err != nil {
			return err
		}
	}
	m.Files = append([]string{ResultsFile, BenchFile, SummaryFile, ManifestFile}, m.Files...)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, ManifestFile), append(mb, '\n'))
}

// ErrDirTaken is ClaimDir's error for a directory that is not empty or that
// another run has claimed.
var ErrDirTaken = errors.New("already exists and is not empty")

// ClaimDir makes dir the results directory of this run before any work:
// it creates it (and its parents) and then, exclusively (O_EXCL), its
// manifest, which says the run is under way (complete=false). A second run
// given the same directory fails here, whatever the timing, instead of
// mixing its files with the first's; an existing empty directory is
// claimed the same way. From here on the directory is valid at every
// instant: the manifest says complete only once every file is written.
func ClaimDir(dir string, m *Manifest) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", dir)
		}
		if entries, err := os.ReadDir(dir); err != nil {
			return err
		} else if len(entries) > 0 {
			return fmt.Errorf("%s: %w", dir, ErrDirTaken)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	claim := *m
	claim.Complete = false
	claim.Files = []string{ManifestFile}
	b, err := json.MarshalIndent(&claim, "", "  ")
	if err != nil {
		return err
	}
	// Written whole beside it, then linked in: link(2) is atomic and
	// fails if the name exists, so the claim is exclusive (two runs
	// cannot share the directory) and a reader never sees half of it.
	path := filepath.Join(dir, ManifestFile)
	data := append(b, '\n')
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: create it exclusively
		// instead (a kill mid-write can then leave it half written).
		var f *os.File
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644&^umask()); err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w (another run claimed it)", dir, ErrDirTaken)
	}
	return err
}

// WriteProgress records a run under way: the records so far, then a
// manifest that says complete=false, both atomically. A run killed at any
// moment leaves a directory compare reads as partial.
func WriteProgress(dir string, m *Manifest, recs []*Record) error {
	if err := WriteRecordsFile(dir, recs); err != nil {
		return err
	}
	p := *m
	p.Complete = false
	p.Files = []string{ResultsFile, ManifestFile}
	b, err := json.MarshalIndent(&p, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

// WriteRecordsFile writes only the records (results.jsonl), atomically,
// for a caller that draws other files from them before WriteResults: the
// records are then there first, and WriteResults writes the same bytes.
func WriteRecordsFile(dir string, recs []*Record) error {
	for _, r := range recs {
		if err := r.CheckVerdicts(); err != nil {
			return err
		}
	}
	jb, err := recordsJSON(recs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, ResultsFile), jb)
}

func recordsJSON(recs []*Record) ([]byte, error) {
	var b bytes.Buffer
	for _, r := range recs {
		if err := r.WriteJSON(&b); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// ReadResults reads a results directory's records (and manifest, if there
// is one). Errors name the file and line.
func ReadResults(dir string) (*Manifest, []*Record, error) {
	path := filepath.Join(dir, ResultsFile)
	mpath := filepath.Join(dir, ManifestFile)
	f, err := os.Open(path)
	if err != nil {
		if m, merr := ReadManifest(mpath); errors.Is(err, fs.ErrNotExist) && merr == nil && !m.Complete && m.Cells == 0 {
			// Only bench's claim: it was killed before its first cell.
			return nil, nil, fmt.Errorf("%s: a results directory whose run finished no cell (its manifest says 0 of %d cells): nothing to read", dir, m.CellsTotal)
		}
		return nil, nil, fmt.Errorf("%s: not a pagelab results directory (%v)", dir, strings.TrimPrefix(err.Error(), "open "+path+": "))
	}
	defer f.Close()
	recs, err := ReadRecords(f, path)
	if err != nil {
		return nil, nil, err
	}
	m := &Manifest{Complete: true, Absent: true}
	if _, err := os.Lstat(mpath); err == nil {
		if m, err = ReadManifest(mpath); err != nil {
			return nil, nil, err
		}
		// One record per finished cell, and the one cut short, if
		// any: fewer is a results file cut or edited since.
		n := len(recs)
		if n > 0 && recs[n-1].Partial {
			n--
		}
		if n != m.Cells {
			return nil, nil, fmt.Errorf("%s: %d records of finished cells, but %s counts %d", path, n, mpath, m.Cells)
		}
	}
	if err := uniqueCells(path, recs); err != nil {
		return nil, nil, err
	}
	return m, recs, nil
}

// State is what the summary's first line and the report say of the run:
// complete, or where an interrupt cut it short (in its cells, or in the
// exhaustive searches after every cell).
func (m *Manifest) State() string {
	switch {
	case !m.Complete && m.Cells == m.CellsTotal && m.VerifyCellsTotal > 0:
		return fmt.Sprintf("PARTIAL: interrupted after %d of %d exhaustive searches", m.VerifyCells, m.VerifyCellsTotal)
	case !m.Complete:
		return fmt.Sprintf("PARTIAL: interrupted after %d of %d cells", m.Cells, m.CellsTotal)
	}
	return "complete"
}

// ReadManifest reads and checks a manifest.json: a regular file of at most
// MaxManifestBytes holding one JSON object with the fields pagelab writes,
// and nothing after it.
func ReadManifest(path string) (*Manifest, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxManifestBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a pagelab manifest", path, MaxManifestBytes>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(b) > MaxManifestBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a pagelab manifest", path, MaxManifestBytes>>20)
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a pagelab manifest: %v", path, err)
	}
	return m, nil
}

func parseManifest(b []byte) (*Manifest, error) {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	m := new(Manifest)
	if err := dec.Decode(m); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON object")
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// validate checks the fields every manifest pagelab writes has.
func (m *Manifest) validate() error {
	switch {
	case len(m.Command) == 0:
		return fmt.Errorf("no command")
	case m.GitRevision == "" || m.GoVersion == "":
		return fmt.Errorf("no git_revision or go_version")
	case m.Start == "":
		return fmt.Errorf("no start time")
	case m.Runs < 0 || m.Runs > MaxRuns || m.Count < 0 || m.Count > MaxRuns:
		return fmt.Errorf("runs %d, count %d out of range (0 to %d)", m.Runs, m.Count, MaxRuns)
	case m.Cells < 0 || m.CellsTotal < 0 || m.Cells > m.CellsTotal:
		return fmt.Errorf("%d of %d cells", m.Cells, m.CellsTotal)
	case m.VerifyStates < 0 || m.VerifyCells < 0 || m.VerifyCells > m.VerifyCellsTotal:
		return fmt.Errorf("verify: %d of %d cells, %d states", m.VerifyCells, m.VerifyCellsTotal, m.VerifyStates)
	case m.Complete && (m.End == "" || m.Cells != m.CellsTotal):
		return fmt.Errorf("complete, but %d of %d cells and end %q", m.Cells, m.CellsTotal, m.End)
	case m.Shard != nil && (m.Shard.Count < 1 || m.Shard.Count > MaxShards || m.Shard.Index < 0 || m.Shard.Index >= m.Shard.Count):
		return fmt.Errorf("shard %d/%d", m.Shard.Index, m.Shard.Count)
	case len(m.Shards) > MaxShards:
		return fmt.Errorf("%d shards (at most %d)", len(m.Shards), MaxShards)
	}
	for k, v := range m.VerifySeconds {
		if math.IsNaN(v) || v < 0 || math.IsInf(v, 0) {
			return fmt.Errorf("verify_seconds of %s: %v", k, v)
		}
	}
	return nil
}

// uniqueCells refuses two records of one cell: compare could only pair
// them arbitrarily.
func uniqueCells(name string, recs []*Record) error {
	seen := map[string]bool{}
	for i, r := range recs {
		if seen[r.Key()] {
			return fmt.Errorf("%s:%d: a second record of cell %s", name, i+1, r.Key())
		}
		seen[r.Key()] = true
	}
	return nil
}
