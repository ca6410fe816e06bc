//go:build unix

package grid

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// lockFile takes an exclusive, non-blocking flock on path (creating it)
// and writes the holder's pid, start time and command line into it for
// the messages of processes that find it busy. busy is true, with holder
// the file's text, if another process (or another open of the file) holds
// the lock. The kernel drops the lock when its holder dies, so a process
// killed by any signal leaves no stale lock: the file stays, the lock does
// not.
func lockFile(path string) (unlock func(), busy bool, holder string, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, "", err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, strings.TrimSpace(string(b)), nil
		}
		return nil, false, "", fmt.Errorf("grid: locking %s: %w", path, err)
	}
	info := fmt.Sprintf("pid %d, since %s: %s\n", os.Getpid(), time.Now().Format(time.DateTime), strings.Join(os.Args, " "))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info), 0)
	}
	return func() { f.Close() }, false, "", nil
}
