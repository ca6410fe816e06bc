package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/synergo/synergo/internal/pyload"
)

// NDArray is a decoded numpy array in C (row-major) order. Exactly one of
// Float64, Strings and Objects holds the Size() elements:
//
//   - Float64 for numeric dtypes (float16/32/64, signed and unsigned ints,
//     bool as 0/1); 64-bit integers beyond ±2⁵³ lose precision;
//   - Strings for unicode (U), byte-string (S) arrays, and object arrays whose
//     elements are all str or bytes; trailing NUL padding is removed;
//   - Objects for other object arrays, holding decoded Go values.
type NDArray struct {
	// Shape is the array's shape; empty for a 0-d array.
	Shape []int
	// Dtype is numpy's dtype.str, e.g. "<f8", "<f4", "|S12", "<U16", "|O".
	Dtype   string
	Float64 []float64
	Strings []string
	Objects []any
}

// Size returns the number of elements, the product of Shape.
func (a *NDArray) Size() int {
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	return n
}

// dtype is a decoded numpy.dtype: kind is numpy's kind character
// (f, i, u, b, U, S, O), size the item size in bytes.
type dtype struct {
	kind      byte
	size      int
	bigEndian bool
}

func (d *dtype) String() string {
	order := "<"
	switch {
	case d.kind == 'O' || d.kind == 'S' || d.kind == 'b' || d.size == 1:
		order = "|"
	case d.bigEndian:
		order = ">"
	}
	if d.kind == 'O' {
		return "|O"
	}
	size := d.size
	if d.kind == 'U' {
		size /= 4
	}
	return order + string(d.kind) + strconv.Itoa(size)
}

// dtypeClass is numpy.dtype(spec, align, copy).
type dtypeClass struct{}

func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("pickle: numpy.dtype(): no type given")
	}
	spec, ok := args[0].(string)
	if !ok || spec == "" {
		return nil, fmt.Errorf("pickle: numpy.dtype(%v): want a type string such as \"f8\"", args[0])
	}
	d := &dtype{kind: spec[0]}
	n := 0
	if len(spec) > 1 {
		var err error
		n, err = strconv.Atoi(spec[1:])
		if err != nil || n < 0 || n > 1<<30 {
			return nil, fmt.Errorf("pickle: numpy.dtype(%q): unsupported type string", spec)
		}
	}
	switch d.kind {
	case 'f':
		if n != 2 && n != 4 && n != 8 {
			return nil, fmt.Errorf("pickle: numpy.dtype(%q): unsupported float size", spec)
		}
	case 'i', 'u':
		if n != 1 && n != 2 && n != 4 && n != 8 {
			return nil, fmt.Errorf("pickle: numpy.dtype(%q): unsupported integer size", spec)
		}
	case 'b':
		n = 1
	case 'U':
		n *= 4
	case 'S', 'O':
	default:
		return nil, fmt.Errorf("pickle: numpy.dtype(%q): unsupported dtype (numeric, U, S and O only)", spec)
	}
	d.size = n
	return d, nil
}

// PySetState applies numpy's dtype state
// (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]).
func (d *dtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || t.Len() < 2 {
		return fmt.Errorf("pickle: numpy dtype state is %T, want a tuple", state)
	}
	if order, ok := t.Get(1).(string); ok {
		d.bigEndian = order == ">"
	}
	if t.Len() >= 5 {
		if t.Get(2) != nil || t.Get(3) != nil {
			return fmt.Errorf("pickle: numpy dtype %s: structured and sub-array dtypes are not supported", d)
		}
	}
	if t.Len() >= 6 && (d.kind == 'U' || d.kind == 'S') {
		if n, ok := t.Get(5).(int); ok && n > 0 && n <= 1<<30 {
			d.size = n
		}
	}
	return nil
}

// arrayBuilder is the object _reconstruct returns and BUILD fills.
type arrayBuilder struct {
	array NDArray
	// objects holds the raw gopickle values of an object array until the
	// converter turns them into Go values.
	objects []any
	filled  bool
}

// PySetState applies ndarray state (version, shape, dtype, is_fortran, data);
// the version is absent in very old pickles.
func (b *arrayBuilder) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok {
		return fmt.Errorf("pickle: numpy array state is %T, want a tuple", state)
	}
	items := []any(*t)
	if len(items) == 5 {
		items = items[1:]
	}
	if len(items) != 4 {
		return fmt.Errorf("pickle: numpy array state has %d items, want 4 or 5", t.Len())
	}
	shape, err := toShape(items[0])
	if err != nil {
		return fmt.Errorf("pickle: numpy array: %w", err)
	}
	dt, ok := items[1].(*dtype)
	if !ok {
		return fmt.Errorf("pickle: numpy array: dtype is %T", items[1])
	}
	if isTrue(items[2]) && len(shape) > 1 {
		return fmt.Errorf("pickle: numpy array of shape %v is in Fortran order, which is not supported (re-save it with np.ascontiguousarray)", shape)
	}
	if dt.kind == 'O' {
		var list []any
		switch l := items[3].(type) {
		case *types.List:
			list = *l
		case *types.Tuple:
			list = *l
		default:
			return fmt.Errorf("pickle: numpy object array: data is %T, want a list", items[3])
		}
		n, err := product(shape)
		if err != nil {
			return err
		}
		if n != len(list) {
			return fmt.Errorf("pickle: numpy object array of shape %v holds %d elements, want %d", shape, len(list), n)
		}
		b.array = NDArray{Shape: shape, Dtype: dt.String()}
		b.objects = list
		b.filled = true
		return nil
	}
	buf, err := rawBytes(items[3])
	if err != nil {
		return fmt.Errorf("pickle: numpy array: %w", err)
	}
	return b.fill(shape, dt, buf)
}

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int:
		return x != 0
	}
	return false
}

// product returns the number of elements of shape, or an error when it
// overflows.
func product(shape []int) (int, error) {
	n := 1
	for _, s := range shape {
		if s != 0 && n > math.MaxInt32*int(1<<16)/s {
			return 0, fmt.Errorf("pickle: numpy array shape %v is too large", shape)
		}
		n *= s
	}
	return n, nil
}

// fill decodes buf, the raw C-order bytes of an array of the given shape and
// dtype, into b.array.
func (b *arrayBuilder) fill(shape []int, dt *dtype, buf []byte) error {
	if dt.kind == 'O' {
		return fmt.Errorf("pickle: numpy object array given as raw bytes")
	}
	n, err := product(shape)
	if err != nil {
		return err
	}
	// numpy never stores elements of zero size (it widens S0 and U0 to one
	// character), and allowing them would let a few bytes declare an array
	// of any length.
	if dt.size == 0 && n > 0 {
		return fmt.Errorf("pickle: numpy array of shape %v and dtype %s has elements of zero size", shape, dt)
	}
	if dt.size > 0 && n > math.MaxInt/dt.size {
		return fmt.Errorf("pickle: numpy array shape %v is too large", shape)
	}
	if want := n * dt.size; len(buf) != want {
		return fmt.Errorf("pickle: numpy array of shape %v and dtype %s needs %d bytes, got %d", shape, dt, want, len(buf))
	}
	b.array = NDArray{Shape: shape, Dtype: dt.String()}
	b.filled = true
	var order binary.ByteOrder = binary.LittleEndian
	if dt.bigEndian {
		order = binary.BigEndian
	}
	sz := dt.size
	switch dt.kind {
	case 'U':
		out := make([]string, n)
		var sb strings.Builder
		for i := range out {
			sb.Reset()
			item := buf[i*sz : (i+1)*sz]
			for j := 0; j+4 <= len(item); j += 4 {
				r := rune(order.Uint32(item[j:]))
				if r == 0 {
					break
				}
				if !utf8.ValidRune(r) {
					r = utf8.RuneError
				}
				sb.WriteRune(r)
			}
			out[i] = sb.String()
		}
		b.array.Strings = out
		return nil
	case 'S':
		out := make([]string, n)
		for i := range out {
			item := buf[i*sz : (i+1)*sz]
			out[i] = strings.TrimRight(string(item), "\x00")
		}
		b.array.Strings = out
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		item := buf[i*sz : (i+1)*sz]
		switch dt.kind {
		case 'f':
			switch sz {
			case 2:
				out[i] = pyload.Float16(order.Uint16(item))
			case 4:
				out[i] = float64(math.Float32frombits(order.Uint32(item)))
			case 8:
				out[i] = math.Float64frombits(order.Uint64(item))
			}
		case 'i':
			switch sz {
			case 1:
				out[i] = float64(int8(item[0]))
			case 2:
				out[i] = float64(int16(order.Uint16(item)))
			case 4:
				out[i] = float64(int32(order.Uint32(item)))
			case 8:
				out[i] = float64(int64(order.Uint64(item)))
			}
		case 'u':
			switch sz {
			case 1:
				out[i] = float64(item[0])
			case 2:
				out[i] = float64(order.Uint16(item))
			case 4:
				out[i] = float64(order.Uint32(item))
			case 8:
				out[i] = float64(order.Uint64(item))
			}
		case 'b':
			if item[0] != 0 {
				out[i] = 1
			}
		}
	}
	b.array.Float64 = out
	return nil
}
