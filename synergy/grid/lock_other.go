//go:build !unix

package grid

// lockRun does nothing where flock is missing: there, run each shard in
// one process at a time.
func lockRun(dir, id string) (unlock func(), busy bool, err error) {
	return func() {}, false, nil
}
