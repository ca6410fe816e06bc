// Package atomicfile writes files that readers and crashes never see half
// written: the data goes to a temporary file beside the target, is synced
// and then renamed over it. The trainer's checkpoints and the grid's plans,
// run results and results.jsonl are written this way.
package atomicfile

import (
	"os"
	"path/filepath"
)

// WriteFile writes data to path (creating its folder) through a temporary
// file in the same folder, fsync and a rename, so path holds either its old
// content or all of data.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
