//go:build !unix

package grid

// lockFile does nothing where flock is missing: there, run one grid per
// output folder, and each shard in one process, at a time.
func lockFile(path string) (unlock func(), busy bool, holder string, err error) {
	return func() {}, false, "", nil
}
