package grid

import (
	"fmt"
	"os"
	"path/filepath"
)

// FolderLockFile is the lock file of an output folder: Grid and Collect
// hold it while they read and write the folder's results.jsonl and run
// files, so two of them never work in one folder at once (two identical
// commands would train the same runs and append the same records twice).
const FolderLockFile = "synergo.lock"

// lockFolder takes the lock of the output folder dir (creating dir). If
// another process holds it, the error names that process and what to do.
func lockFolder(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FolderLockFile)
	unlock, busy, holder, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	if busy {
		return nil, fmt.Errorf("grid: the output folder %s is in use by another synergo process (%s; lock %s); "+
			"wait until it finishes, or use another output folder", dir, orUnknown(holder), path)
	}
	return unlock, nil
}

// lockRun takes the lock work/<id>.lock (under the plan folder) of one planned run, so that
// two shard processes (a task resubmitted while the first still runs)
// never train the same run into the same checkpoint folder. busy is true
// if another process holds it.
func lockRun(dir, id string) (unlock func(), busy bool, err error) {
	path := filepath.Join(dir, PlanWorkDir, id+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, err
	}
	unlock, busy, _, err = lockFile(path)
	return unlock, busy, err
}

func orUnknown(holder string) string {
	if holder == "" {
		return "holder unknown"
	}
	return holder
}
