//go:build unix

package grid

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockRun takes an exclusive, non-blocking flock on DIR/work/<id>.lock so
// that two shard processes (a task resubmitted while the first still
// runs) never train the same run into the same checkpoint folder. The
// kernel drops the lock when the process dies, so a killed shard leaves no
// stale lock. busy is true if another process holds it.
func lockRun(dir, id string) (unlock func(), busy bool, err error) {
	path := filepath.Join(dir, PlanWorkDir, id+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("grid: locking %s: %w", path, err)
	}
	return func() { f.Close() }, false, nil
}
