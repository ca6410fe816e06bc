package pickle

import (
	"fmt"

	"github.com/nlpodyssey/gopickle/types"
)

// findClass resolves the globals a numpy pickle names, and refuses every
// other one. Both the numpy 1.x (numpy.core.*) and 2.x (numpy._core.*)
// module paths are accepted.
func findClass(module, name string) (any, error) {
	switch module {
	case "numpy.core.multiarray", "numpy._core.multiarray":
		switch name {
		case "_reconstruct":
			return reconstructFunc{}, nil
		case "scalar":
			return scalarFunc{}, nil
		}
	case "numpy.core.numeric", "numpy._core.numeric":
		if name == "_frombuffer" {
			return frombufferFunc{}, nil
		}
	case "numpy":
		switch name {
		case "ndarray":
			return ndarrayClass{}, nil
		case "dtype":
			return dtypeClass{}, nil
		}
	case "_codecs":
		if name == "encode" {
			return codecsEncodeFunc{}, nil
		}
	case "builtins", "__builtin__":
		switch name {
		case "bytes":
			return bytesClass{}, nil
		case "set", "frozenset":
			return setClass{}, nil
		}
	}
	return nil, fmt.Errorf("pickle: refusing global %s.%s (only numpy arrays, dtypes and scalars and plain Python containers are allowed)", module, name)
}

// ndarrayClass stands for numpy.ndarray, the first argument of
// _reconstruct; it cannot be instantiated on its own.
type ndarrayClass struct{}

// reconstructFunc is numpy.core.multiarray._reconstruct(cls, shape, dtype):
// it returns an empty array that BUILD then fills via PySetState.
type reconstructFunc struct{}

func (reconstructFunc) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("pickle: numpy _reconstruct: got %d arguments, want 3", len(args))
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("pickle: numpy _reconstruct: class %T is not numpy.ndarray (subclasses are not supported)", args[0])
	}
	return &arrayBuilder{}, nil
}

// frombufferFunc is numpy.core.numeric._frombuffer(buffer, dtype, shape,
// order), what numpy emits for protocol 5.
type frombufferFunc struct{}

func (frombufferFunc) Call(args ...any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("pickle: numpy _frombuffer: got %d arguments, want 4", len(args))
	}
	buf, err := rawBytes(args[0])
	if err != nil {
		return nil, fmt.Errorf("pickle: numpy _frombuffer: %w", err)
	}
	dt, ok := args[1].(*dtype)
	if !ok {
		return nil, fmt.Errorf("pickle: numpy _frombuffer: dtype argument is %T", args[1])
	}
	shape, err := toShape(args[2])
	if err != nil {
		return nil, fmt.Errorf("pickle: numpy _frombuffer: %w", err)
	}
	if order, _ := args[3].(string); order != "C" {
		return nil, fmt.Errorf("pickle: numpy _frombuffer: order %v is not supported (only C order; re-save the array with np.ascontiguousarray)", args[3])
	}
	b := &arrayBuilder{}
	if err := b.fill(shape, dt, buf); err != nil {
		return nil, err
	}
	return b, nil
}

// scalarFunc is numpy.core.multiarray.scalar(dtype, data): a numpy scalar.
type scalarFunc struct{}

func (scalarFunc) Call(args ...any) (any, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("pickle: numpy scalar: got %d arguments, want 1 or 2", len(args))
	}
	dt, ok := args[0].(*dtype)
	if !ok {
		return nil, fmt.Errorf("pickle: numpy scalar: dtype argument is %T", args[0])
	}
	if dt.kind == 'O' {
		if len(args) != 2 {
			return nil, fmt.Errorf("pickle: numpy object scalar without a value")
		}
		return args[1], nil
	}
	if len(args) != 2 {
		return nil, fmt.Errorf("pickle: numpy scalar of dtype %s without data", dt)
	}
	buf, err := rawBytes(args[1])
	if err != nil {
		return nil, fmt.Errorf("pickle: numpy scalar: %w", err)
	}
	b := &arrayBuilder{}
	if err := b.fill([]int{}, dt, buf); err != nil {
		return nil, err
	}
	a := b.array
	switch {
	case a.Strings != nil:
		return a.Strings[0], nil
	case dt.kind == 'b':
		return a.Float64[0] != 0, nil
	case dt.kind == 'i' || dt.kind == 'u':
		return int(a.Float64[0]), nil
	}
	return a.Float64[0], nil
}

// codecsEncodeFunc is _codecs.encode(str, "latin1"): protocol 2 stores
// Python-3 bytes this way.
type codecsEncodeFunc struct{}

func (codecsEncodeFunc) Call(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("pickle: _codecs.encode: got %d arguments, want 2", len(args))
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("pickle: _codecs.encode: arguments are %T, %T, want two strings", args[0], args[1])
	}
	if enc != "latin1" && enc != "latin-1" && enc != "iso-8859-1" {
		return nil, fmt.Errorf("pickle: _codecs.encode: encoding %q is not supported (only latin1)", enc)
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("pickle: _codecs.encode: rune %U is not latin1", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// bytesClass is builtins.bytes: protocol 2 writes an empty bytes object as
// bytes().
type bytesClass struct{}

func (bytesClass) Call(args ...any) (any, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("pickle: bytes(): only the empty form is supported, got %d arguments", len(args))
	}
	return []byte{}, nil
}

// setClass is builtins.set / frozenset: protocols below 4 write set(list).
type setClass struct{}

func (setClass) Call(args ...any) (any, error) {
	switch len(args) {
	case 0:
		return types.NewList(), nil
	case 1:
		if l, ok := args[0].(*types.List); ok {
			return l, nil
		}
	}
	return nil, fmt.Errorf("pickle: set(): want one list argument")
}

// rawBytes returns the bytes of a bytes, bytearray or Python-2 str value.
func rawBytes(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case *types.ByteArray:
		return []byte(*b), nil
	case string: // Python-2 BINSTRING holds raw bytes
		return []byte(b), nil
	}
	return nil, fmt.Errorf("data is %T, want bytes", v)
}

// toShape converts a tuple of non-negative ints to a shape.
func toShape(v any) ([]int, error) {
	var items []any
	switch t := v.(type) {
	case *types.Tuple:
		items = *t
	case *types.List:
		items = *t
	case int:
		items = []any{t}
	default:
		return nil, fmt.Errorf("shape is %T, want a tuple of ints", v)
	}
	shape := make([]int, len(items))
	for i, it := range items {
		n, ok := it.(int)
		if !ok || n < 0 {
			return nil, fmt.Errorf("shape %v: axis %d is %v, want a non-negative int", items, i, it)
		}
		shape[i] = n
	}
	return shape, nil
}
