package bench

import (
	"bytes"
	"os"
	"strconv"
	"sync"
)

// umask is the process's file-mode creation mask, read from
// /proc/self/status (Linux 4.7 and later) so that reading it does not mean
// setting it process-wide; 022, the usual mask, where it cannot be read.
var umask = sync.OnceValue(func() os.FileMode {
	status, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for line := range bytes.Lines(status) {
			if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
				if m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32); err == nil {
					return os.FileMode(m) & os.ModePerm
				}
			}
		}
	}
	return 0o022
})
