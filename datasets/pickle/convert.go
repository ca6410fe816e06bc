package pickle

import (
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"
)

// Dict is a decoded Python dict (or OrderedDict) in insertion order. A key
// that occurs twice keeps its last value, as in Python.
type Dict struct {
	Keys   []any
	Values []any
	index  map[any]int
}

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.Keys) }

// Get returns the value stored under key. Keys that are str, bytes, int,
// float or bool can be looked up; a bytes key is also found by the equal Go
// string.
func (d *Dict) Get(key any) (any, bool) {
	if b, ok := key.([]byte); ok {
		key = string(b)
	}
	switch key.(type) {
	case string, int, float64, bool:
	default:
		return nil, false
	}
	i, ok := d.index[key]
	if !ok {
		return nil, false
	}
	return d.Values[i], true
}

func (d *Dict) set(k, v any) {
	if d.index == nil {
		d.index = map[any]int{}
	}
	hk := k
	if b, ok := k.([]byte); ok {
		hk = string(b)
	}
	switch hk.(type) {
	case string, int, float64, bool:
		if i, ok := d.index[hk]; ok {
			d.Values[i] = v
			return
		}
		d.index[hk] = len(d.Keys)
	}
	d.Keys = append(d.Keys, k)
	d.Values = append(d.Values, v)
}

// maxDepth bounds the nesting of decoded containers.
const maxDepth = 1000

// converter turns gopickle values into the Go values documented in the
// package comment. Containers are converted once and shared, so a pickle
// that references one list many times (a DAG) stays linear in size, and a
// container that contains itself is reported as an error.
type converter struct {
	done       map[any]any
	inProgress map[any]bool
}

func newConverter() *converter {
	return &converter{done: map[any]any{}, inProgress: map[any]bool{}}
}

func (c *converter) convert(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("pickle: containers nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil, bool, int, float64, string, []byte:
		return x, nil
	case *big.Int:
		if x.IsInt64() {
			return int(x.Int64()), nil
		}
		return x, nil
	case *types.ByteArray:
		return []byte(*x), nil
	case *types.Tuple:
		return c.seq(x, []any(*x), depth)
	case *types.List:
		return c.seq(x, []any(*x), depth)
	case *types.Set:
		items := make([]any, 0, len(*x))
		for k := range *x {
			items = append(items, k)
		}
		return c.seq(x, items, depth)
	case *types.FrozenSet:
		items := make([]any, 0, len(*x))
		for k := range *x {
			items = append(items, k)
		}
		return c.seq(x, items, depth)
	case *types.Dict:
		keys := make([]any, len(*x))
		vals := make([]any, len(*x))
		for i, e := range *x {
			keys[i], vals[i] = e.Key, e.Value
		}
		return c.dict(x, keys, vals, depth)
	case *types.OrderedDict:
		keys := make([]any, 0, x.Len())
		vals := make([]any, 0, x.Len())
		for e := x.List.Front(); e != nil; e = e.Next() {
			entry, ok := e.Value.(*types.OrderedDictEntry)
			if !ok {
				return nil, fmt.Errorf("pickle: malformed OrderedDict")
			}
			keys = append(keys, entry.Key)
			vals = append(vals, entry.Value)
		}
		return c.dict(x, keys, vals, depth)
	case *arrayBuilder:
		return c.array(x, depth)
	case *dtype:
		return nil, fmt.Errorf("pickle: a bare numpy dtype (%s) is not a supported value", x)
	}
	return nil, fmt.Errorf("pickle: unsupported Python value of Go type %T", v)
}

func (c *converter) enter(key any) (any, bool, error) {
	if out, ok := c.done[key]; ok {
		return out, true, nil
	}
	if c.inProgress[key] {
		return nil, false, fmt.Errorf("pickle: a container contains itself; recursive structures are not supported")
	}
	c.inProgress[key] = true
	return nil, false, nil
}

func (c *converter) leave(key, out any) {
	delete(c.inProgress, key)
	c.done[key] = out
}

func (c *converter) seq(key any, items []any, depth int) (any, error) {
	if out, ok, err := c.enter(key); ok || err != nil {
		return out, err
	}
	out := make([]any, len(items))
	for i, it := range items {
		v, err := c.convert(it, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	c.leave(key, out)
	return out, nil
}

func (c *converter) dict(key any, keys, vals []any, depth int) (any, error) {
	if out, ok, err := c.enter(key); ok || err != nil {
		return out, err
	}
	d := &Dict{}
	for i := range keys {
		k, err := c.convert(keys[i], depth+1)
		if err != nil {
			return nil, err
		}
		v, err := c.convert(vals[i], depth+1)
		if err != nil {
			return nil, err
		}
		d.set(k, v)
	}
	c.leave(key, d)
	return d, nil
}

func (c *converter) array(b *arrayBuilder, depth int) (any, error) {
	if out, ok, err := c.enter(b); ok || err != nil {
		return out, err
	}
	if !b.filled {
		return nil, fmt.Errorf("pickle: numpy array was reconstructed but never given its data")
	}
	a := b.array
	a.Shape = append([]int(nil), a.Shape...)
	if b.objects != nil {
		objs := make([]any, len(b.objects))
		allStrings := true
		for i, o := range b.objects {
			v, err := c.convert(o, depth+1)
			if err != nil {
				return nil, err
			}
			objs[i] = v
			switch v.(type) {
			case string, []byte:
			default:
				allStrings = false
			}
		}
		if allStrings {
			a.Strings = make([]string, len(objs))
			for i, o := range objs {
				switch s := o.(type) {
				case string:
					a.Strings[i] = s
				case []byte:
					a.Strings[i] = string(s)
				}
			}
		} else {
			a.Objects = objs
		}
	}
	out := &a
	c.leave(b, out)
	return out, nil
}
