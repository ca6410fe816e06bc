package grid

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/synergo/synergo/internal/atomicfile"
)

// The files a grid trusts to skip training, DIR/runs/<id>.json and
// DIR/failed/<id>.json, are sealed: one JSON object
//
//	{"format": "synergo grid run result", "version": 1, "sha256": "…", "body": {…}}
//
// whose body is the document (PlannedOutcome, PlannedFailure) and sha256
// the hex SHA-256 of the body's bytes as written. Reading checks all
// three, so a damaged or foreign file is an error naming it, never a
// result taken at its word.
const (
	sealVersion   = 1
	outcomeFormat = "synergo grid run result"
	failureFormat = "synergo grid run failure"
)

type sealed struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	SHA256  string          `json:"sha256"`
	Body    json.RawMessage `json:"body"`
}

// writeSealed writes v as the body of a sealed file of the given format,
// atomically.
func writeSealed(path, format string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("grid: encoding %s: %w", path, err)
	}
	sum := sha256.Sum256(body)
	b, err := json.Marshal(sealed{Format: format, Version: sealVersion, SHA256: hex.EncodeToString(sum[:]), Body: body})
	if err != nil {
		return fmt.Errorf("grid: encoding %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// readSealed reads a sealed file of the given format into v. An error
// matching fs.ErrNotExist means there is no file; any other names the file
// and what is wrong with it.
func readSealed(path, format string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var s sealed
	if err := json.Unmarshal(b, &s); err != nil || s.Format == "" {
		return fmt.Errorf("grid: %s is not a sealed %s file (damaged, or written by an earlier synergo)", path, format)
	}
	switch {
	case s.Format != format:
		return fmt.Errorf("grid: %s holds a %q, want a %q", path, s.Format, format)
	case s.Version != sealVersion:
		return fmt.Errorf("grid: %s has version %d, this synergo reads version %d", path, s.Version, sealVersion)
	}
	if sum := sha256.Sum256(s.Body); hex.EncodeToString(sum[:]) != s.SHA256 {
		return fmt.Errorf("grid: %s: SHA-256 checksum mismatch: the file is damaged", path)
	}
	if err := json.Unmarshal(s.Body, v); err != nil {
		return fmt.Errorf("grid: %s: not a %s: %w", path, format, err)
	}
	return nil
}
