package datasets

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// npyChunk is the number of elements encoded per write.
const npyChunk = 1 << 16

// writeNPYHeader writes a NumPy .npy version 1.0 header: the magic
// "\x93NUMPY", the version bytes 1 0, the little-endian uint16 length of
// the header dictionary, then the dictionary padded with spaces and a
// newline so that the data starts at a multiple of 64 bytes.
func writeNPYHeader(w io.Writer, descr string, shape []int) error {
	dims := make([]string, len(shape))
	for k, n := range shape {
		dims[k] = strconv.Itoa(n)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	const prefix = 10 // magic (6) + version (2) + length (2)
	pad := 63 - (prefix+len(dict))%64
	dict += strings.Repeat(" ", pad) + "\n"
	if len(dict) > math.MaxUint16 {
		return fmt.Errorf("npy header of %d bytes is too long", len(dict))
	}
	head := make([]byte, prefix, prefix+len(dict))
	copy(head, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(head[8:], uint16(len(dict)))
	_, err := w.Write(append(head, dict...))
	return err
}

// writeNPYFloat32 writes x with the given shape as '<f4'.
func writeNPYFloat32(w io.Writer, shape []int, x []float32) error {
	if err := writeNPYHeader(w, "<f4", shape); err != nil {
		return err
	}
	buf := make([]byte, 4*min(len(x), npyChunk))
	for start := 0; start < len(x); start += npyChunk {
		part := x[start:min(start+npyChunk, len(x))]
		for k, v := range part {
			binary.LittleEndian.PutUint32(buf[4*k:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*len(part)]); err != nil {
			return err
		}
	}
	return nil
}

// writeNPYFloat64 writes x with the given shape as '<f8'.
func writeNPYFloat64(w io.Writer, shape []int, x []float64) error {
	if err := writeNPYHeader(w, "<f8", shape); err != nil {
		return err
	}
	buf := make([]byte, 8*min(len(x), npyChunk))
	for start := 0; start < len(x); start += npyChunk {
		part := x[start:min(start+npyChunk, len(x))]
		for k, v := range part {
			binary.LittleEndian.PutUint64(buf[8*k:], math.Float64bits(v))
		}
		if _, err := w.Write(buf[:8*len(part)]); err != nil {
			return err
		}
	}
	return nil
}

// writeNPYInt64 writes x as a 1-d '<i8' array.
func writeNPYInt64(w io.Writer, x []int) error {
	if err := writeNPYHeader(w, "<i8", []int{len(x)}); err != nil {
		return err
	}
	buf := make([]byte, 8*len(x))
	for k, v := range x {
		binary.LittleEndian.PutUint64(buf[8*k:], uint64(int64(v)))
	}
	_, err := w.Write(buf)
	return err
}

// writeNPYInt32 writes x with the given shape as '<i4'.
func writeNPYInt32(w io.Writer, shape []int, x []int32) error {
	if err := writeNPYHeader(w, "<i4", shape); err != nil {
		return err
	}
	buf := make([]byte, 4*len(x))
	for k, v := range x {
		binary.LittleEndian.PutUint32(buf[4*k:], uint32(v))
	}
	_, err := w.Write(buf)
	return err
}

// writeNPYStrings writes x as a unicode array '<U n' (UCS-4, NUL-padded,
// n the longest string in code points, at least 1); shape nil writes the
// single string x[0] as a 0-d array.
func writeNPYStrings(w io.Writer, shape []int, x []string) error {
	width := 1
	for _, s := range x {
		width = max(width, utf8.RuneCountInString(s))
	}
	if err := writeNPYHeader(w, "<U"+strconv.Itoa(width), shape); err != nil {
		return err
	}
	buf := make([]byte, 4*width)
	for _, s := range x {
		clear(buf)
		k := 0
		for _, r := range s {
			binary.LittleEndian.PutUint32(buf[4*k:], uint32(r))
			k++
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
