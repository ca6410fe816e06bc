package datasets

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/synergo/synergo/datasets/pickle"
)

// Reading the decoded values of a pickle: helpers shared by the
// pickle-based loaders (mmsa, mult, magbert, urfunny).

// pklCtx names the file and split being read, for error messages of the
// form "<file>: split <split>: key <key>: …".
type pklCtx struct{ file, split string }

func (c pklCtx) errf(key, format string, args ...any) error {
	return fmt.Errorf("%s: split %s: key %s: %s", c.file, c.split, key, fmt.Sprintf(format, args...))
}

// datasetNameFromPath guesses "mosi", "mosei" or "sims" from a path, else
// returns the file's base name without extension.
func datasetNameFromPath(path string) string {
	low := strings.ToLower(path)
	for _, n := range []string{"mosei", "mosi", "sims", "urfunny", "ur-funny"} {
		if strings.Contains(low, n) {
			return strings.ReplaceAll(n, "-", "")
		}
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case *pickle.Dict:
		return "a dict"
	case []any:
		return "a list/tuple"
	case *pickle.NDArray:
		return "a numpy array"
	case string:
		return "a str"
	case []byte:
		return "bytes"
	case float64:
		return "a float"
	case int:
		return "an int"
	}
	return fmt.Sprintf("%T", v)
}

// pyString returns a decoded Python str, or a byte string (Python 2 str,
// Python 3 bytes), as a Go string.
func pyString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

// pyStrings converts a decoded list of strings (see pyString). bad is the
// index of the first element that is not a string, or −1.
func pyStrings(list []any) (out []string, bad int) {
	out = make([]string, len(list))
	for i, e := range list {
		s, ok := pyString(e)
		if !ok {
			return nil, i
		}
		out[i] = s
	}
	return out, -1
}

// dropValue releases d[key] once it has been converted, so the decoded
// arrays of a multi-gigabyte pickle can be collected split by split.
func dropValue(d *pickle.Dict, key string) {
	for i, k := range d.Keys {
		if s, ok := pyString(k); ok && s == key {
			d.Values[i] = nil
		}
	}
}

// decodeDict decodes the pickle at path and returns its top-level dict;
// want describes the expected content for the error message, e.g.
// "{id → label}".
func decodeDict(path, want string) (*pickle.Dict, error) {
	v, err := pickle.DecodeFile(path)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: top level is %s, want %s", path, pyType(v), want)
	}
	return d, nil
}

// loadSplitDicts reads a pickle holding {"train", "valid", "test" → dict}
// (the mmsa-pickle and mult-pickle layouts) into a regression Dataset whose
// Source is format + ":" + path. readSplit converts one split dict; each is
// released once converted.
func loadSplitDicts(path, format string, readSplit func(pklCtx, *pickle.Dict) (*Split, error)) (*Dataset, error) {
	root, err := decodeDict(path, "a dict of train/valid/test")
	if err != nil {
		return nil, err
	}
	d := &Dataset{Name: datasetNameFromPath(path), Source: format + ":" + path, Task: Regression}
	splits := []**Split{&d.Train, &d.Valid, &d.Test}
	for i, name := range []string{"train", "valid", "test"} {
		sd, err := splitDict(path, root, name)
		if err != nil {
			return nil, err
		}
		s, err := readSplit(pklCtx{file: path, split: name}, sd)
		if err != nil {
			return nil, err
		}
		*splits[i] = s
		dropValue(root, name)
	}
	return validated(path, d)
}

// splitDict returns root[name] as a dict.
func splitDict(file string, root *pickle.Dict, name string) (*pickle.Dict, error) {
	v, ok := root.Get(name)
	if !ok {
		return nil, fmt.Errorf("%s: split %s: key %q is missing (top level has %s)", file, name, name, pyKeys(root.Keys))
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: split %s: key %q is %s, want a dict", file, name, name, pyType(v))
	}
	return d, nil
}

func (c pklCtx) get(d *pickle.Dict, key string) (any, error) {
	v, ok := d.Get(key)
	if !ok {
		return nil, c.errf(key, "missing (the dict has %s)", pyKeys(d.Keys))
	}
	return v, nil
}

// asArray checks that v is a numeric numpy array with ndim dimensions.
func (c pklCtx) asArray(v any, key string, ndim int) (*pickle.NDArray, error) {
	a, ok := v.(*pickle.NDArray)
	if !ok {
		return nil, c.errf(key, "is %s, want a numpy array", pyType(v))
	}
	if len(a.Shape) != ndim {
		return nil, c.errf(key, "shape %v, want %d dimensions", a.Shape, ndim)
	}
	if a.Float64 == nil && a.Size() > 0 {
		return nil, c.errf(key, "dtype %s, want a numeric array", a.Dtype)
	}
	return a, nil
}

// array3 returns d[key] as an (n, T, D) array with T, D ≥ 1.
func (c pklCtx) array3(d *pickle.Dict, key string, n int) (*pickle.NDArray, error) {
	v, err := c.get(d, key)
	if err != nil {
		return nil, err
	}
	a, err := c.asArray(v, key, 3)
	if err != nil {
		return nil, err
	}
	if a.Shape[0] != n || a.Shape[1] < 1 || a.Shape[2] < 1 {
		return nil, c.errf(key, "shape %v, want (%d, T, D) with T, D ≥ 1 (N from the labels)", a.Shape, n)
	}
	return a, nil
}

// getNumbers returns d[key] and its numbers (see numbers).
func (c pklCtx) getNumbers(d *pickle.Dict, key string) (any, []float64, error) {
	v, err := c.get(d, key)
	if err != nil {
		return nil, nil, err
	}
	vals, err := c.numbers(v, key)
	if err != nil {
		return nil, nil, err
	}
	return v, vals, nil
}

// labels reads d[key] as N finite labels of any shape (N, 1, …, 1).
func (c pklCtx) labels(d *pickle.Dict, key string) ([]float32, error) {
	v, vals, err := c.getNumbers(d, key)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, c.errf(key, "no samples")
	}
	if a, ok := v.(*pickle.NDArray); ok && len(a.Shape) > 0 && a.Shape[0] != len(vals) {
		return nil, c.errf(key, "shape %v, want (N,) or (N, 1)", a.Shape)
	}
	out := make([]float32, len(vals))
	for i, y := range vals {
		if out[i], err = c.finiteLabel(key, i, y); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// finiteLabel returns the label y of sample i as a float32, or an error
// naming key and the sample when y is NaN or infinite, or finite but too
// large for a float32.
func (c pklCtx) finiteLabel(key string, i int, y float64) (float32, error) {
	if math.IsNaN(y) || math.IsInf(y, 0) || math.IsInf(float64(float32(y)), 0) {
		return 0, c.errf(key, "sample %d is %v, want a finite float32 label", i, y)
	}
	return float32(y), nil
}

// numbers flattens a numeric numpy array or a list of Python numbers.
func (c pklCtx) numbers(v any, key string) ([]float64, error) {
	switch x := v.(type) {
	case *pickle.NDArray:
		if x.Float64 == nil && x.Size() > 0 {
			return nil, c.errf(key, "dtype %s, want numbers", x.Dtype)
		}
		return x.Float64, nil
	case []any:
		out := make([]float64, len(x))
		for i, e := range x {
			f, ok := pyNumber(e)
			if !ok {
				return nil, c.errf(key, "element %d is %s, want a number", i, pyType(e))
			}
			out[i] = f
		}
		return out, nil
	}
	if f, ok := pyNumber(v); ok {
		return []float64{f}, nil
	}
	return nil, c.errf(key, "is %s, want numbers", pyType(v))
}

// pyNumber converts a decoded Python/numpy number to float64.
func pyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case *pickle.NDArray:
		if x.Size() == 1 && len(x.Float64) == 1 {
			return x.Float64[0], true
		}
	}
	return 0, false
}

// lengths reads d[key] as n integer lengths in 0..t (postPadded turns a
// length of 0 into one all-zero step).
func (c pklCtx) lengths(d *pickle.Dict, key string, n, t int) ([]int, error) {
	_, vals, err := c.getNumbers(d, key)
	if err != nil {
		return nil, err
	}
	if len(vals) != n {
		return nil, c.errf(key, "%d entries, want %d", len(vals), n)
	}
	out := make([]int, n)
	for i, l := range vals {
		if l != math.Trunc(l) || l < 0 || l > float64(t) {
			return nil, c.errf(key, "sample %d has length %v, want an integer in 0..%d", i, l, t)
		}
		out[i] = int(l)
	}
	return out, nil
}

// optionalStrings reads d[key] as n strings, or returns nil when absent.
func (c pklCtx) optionalStrings(d *pickle.Dict, key string, n int) ([]string, error) {
	v, ok := d.Get(key)
	if !ok {
		return nil, nil
	}
	var out []string
	switch x := v.(type) {
	case *pickle.NDArray:
		out = x.Strings
	case []any:
		var bad int
		if out, bad = pyStrings(x); bad >= 0 {
			return nil, c.errf(key, "element %d is %s, want a string", bad, pyType(x[bad]))
		}
	}
	if out == nil {
		return nil, c.errf(key, "is %s, want strings", pyType(v))
	}
	if len(out) != n {
		return nil, c.errf(key, "%d entries, want %d", len(out), n)
	}
	return out, nil
}

// copyValidSteps writes the first steps rows of src (row-major, dst.D
// values a row) into sample i of dst, each value cleaned by cleanValue
// without zeroNaN: -inf becomes 0, NaN or +inf is an error naming key,
// sample, step and feature.
func (c pklCtx) copyValidSteps(key string, dst *Sequences, i int, src []float64, steps int) error {
	dim := dst.D
	for st := range steps {
		row := dst.Data[(i*dst.T+st)*dim : (i*dst.T+st+1)*dim]
		for k := range row {
			f, err := c.cleanValue(key, src[st*dim+k], false, i, st, k)
			if err != nil {
				return err
			}
			row[k] = f
		}
	}
	return nil
}

// cleanValue applies the feature cleaning rule: -inf → 0; NaN → 0 when
// zeroNaN, else an error; +inf is always an error, and so is a finite value
// beyond the float32 range (it would become ±inf).
func (c pklCtx) cleanValue(key string, v float64, zeroNaN bool, i, t, k int) (float32, error) {
	switch {
	case math.IsInf(v, -1):
		return 0, nil
	case math.IsNaN(v) && zeroNaN:
		return 0, nil
	case math.IsNaN(v) || math.IsInf(v, 1):
		return 0, c.errf(key, "sample %d step %d feature %d is %v; features must be finite (-inf is read as 0)", i, t, k, v)
	case math.IsInf(float64(float32(v)), 0):
		return 0, c.errf(key, "sample %d step %d feature %d is %v, beyond the float32 range", i, t, k, v)
	}
	return float32(v), nil
}
