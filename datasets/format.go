package datasets

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Format is one on-disk layout that Load can read.
type Format struct {
	// Name identifies the format, e.g. "mmsa-pickle", "npz", "cmu-sdk".
	Name string
	// Sniff reports whether path looks like this format. head holds up to
	// the first 512 bytes of a regular file, and is nil for a directory.
	Sniff func(path string, head []byte) bool
	// Load reads the whole dataset.
	Load func(path string) (*Dataset, error)
	// Explain, if not nil, is asked when no format recognises path: it
	// returns why path is not a readable file of this format when path
	// looks meant to be one (by its name or first bytes, e.g. a truncated
	// archive), else nil.
	Explain func(path string, head []byte) error
}

var formats = map[string]Format{}

// RegisterFormat makes a format known to Load. Loaders register themselves
// from init functions; registering a name twice panics.
func RegisterFormat(f Format) {
	if _, dup := formats[f.Name]; dup {
		panic("datasets: format registered twice: " + f.Name)
	}
	formats[f.Name] = f
}

// FormatNames returns the registered format names, sorted.
func FormatNames() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load reads a dataset from path, sniffing its format (see FormatNames).
func Load(path string) (*Dataset, error) { return LoadFormat(path, "") }

// LoadFormat reads a dataset from path in the named format, or sniffs the
// format when name is empty. The result is validated (see Dataset.Validate).
func LoadFormat(path, name string) (*Dataset, error) {
	f, err := detect(path, name)
	if err != nil {
		return nil, err
	}
	d, err := f.Load(path)
	if err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// validated returns d if it passes Validate, else the error prefixed with
// path. Every loader ends with it: a file that decodes into a dataset that
// breaks an invariant is an error of the loader, not of its caller.
func validated(path string, d *Dataset) (*Dataset, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// DetectFormat returns the name of the format path is in.
func DetectFormat(path string) (string, error) {
	f, err := detect(path, "")
	if err != nil {
		return "", err
	}
	return f.Name, nil
}

func detect(path, name string) (Format, error) {
	if name != "" {
		f, ok := formats[name]
		if !ok {
			return Format{}, fmt.Errorf("datasets: unknown format %q (known: %s)", name, strings.Join(FormatNames(), ", "))
		}
		return f, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return Format{}, fmt.Errorf("datasets: %w", err)
	}
	var head []byte
	if !st.IsDir() {
		if st.Size() == 0 {
			return Format{}, fmt.Errorf("datasets: %s: empty file (0 bytes), want a dataset (%s)", path, strings.Join(FormatNames(), ", "))
		}
		fh, err := os.Open(path)
		if err != nil {
			return Format{}, fmt.Errorf("datasets: %w", err)
		}
		buf := make([]byte, 512)
		n, err := io.ReadFull(fh, buf)
		fh.Close()
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return Format{}, fmt.Errorf("datasets: reading %s: %w", path, err)
		}
		head = buf[:n]
	}
	for _, n := range FormatNames() {
		if f := formats[n]; f.Sniff(path, head) {
			return f, nil
		}
	}
	for _, n := range FormatNames() {
		if f := formats[n]; f.Explain != nil {
			if err := f.Explain(path, head); err != nil {
				return Format{}, err
			}
		}
	}
	return Format{}, fmt.Errorf("datasets: %s: unrecognized format (known: %s)", path, strings.Join(FormatNames(), ", "))
}
