package bert

import (
	"bytes"
	"fmt"
	"os"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// ReadTorchStateDict reads a PyTorch state dict saved with torch.save in
// the zip format (PyTorch ≥ 1.6; archive/data.pkl plus one file per
// storage under archive/data/), as Hugging Face's pytorch_model.bin, with
// gopickle's unpickler. Float, double, half, bfloat16 and integer storages
// are converted to float64; strided (non-contiguous) tensors are gathered.
// The legacy (pre-1.6) format is refused with an error.
func ReadTorchStateDict(path string) (ts Tensors, err error) {
	head := make([]byte, 4)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	_, rerr := f.Read(head)
	f.Close()
	if rerr != nil || !bytes.Equal(head, []byte("PK\x03\x04")) {
		return nil, fmt.Errorf("bert: %s: not a zip archive; only torch.save's zip format (PyTorch ≥ 1.6) is supported", path)
	}
	// gopickle panics on some malformed inputs; report them as errors.
	defer func() {
		if r := recover(); r != nil {
			ts, err = nil, fmt.Errorf("bert: %s: malformed PyTorch file: %v", path, r)
		}
	}()
	obj, err := pytorch.Load(path)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", path, err)
	}
	ts = Tensors{}
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("bert: %s: state dict key %v is %T, want a string", path, k, k)
		}
		pt, ok := v.(*pytorch.Tensor)
		if !ok {
			return nil // not a tensor (for example _metadata); ignored
		}
		t, err := torchTensor(name, pt)
		if err != nil {
			return fmt.Errorf("bert: %s: tensor %q: %w", path, name, err)
		}
		ts[name] = t
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, entry := range *d {
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("bert: %s: top-level object is %T, want a state dict", path, obj)
	}
	return ts, nil
}

// torchTensor copies a (possibly strided) tensor view out of its storage.
func torchTensor(name string, pt *pytorch.Tensor) (*Tensor, error) {
	data, dtype, err := storageFloat64s(pt.Source)
	if err != nil {
		return nil, err
	}
	if len(pt.Stride) != len(pt.Size) {
		return nil, fmt.Errorf("size %v and stride %v differ in length", pt.Size, pt.Stride)
	}
	n, err := numElements(pt.Size, len(data)+1)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	idx := make([]int, len(pt.Size))
	for i := range out {
		off := pt.StorageOffset
		for a, j := range idx {
			off += j * pt.Stride[a]
		}
		if off < 0 || off >= len(data) {
			return nil, fmt.Errorf("element %d at storage offset %d outside the storage of %d elements", i, off, len(data))
		}
		out[i] = data[off]
		for a := len(idx) - 1; a >= 0; a-- { // advance the row-major index
			idx[a]++
			if idx[a] < pt.Size[a] {
				break
			}
			idx[a] = 0
		}
	}
	return &Tensor{Name: name, Dtype: dtype, Shape: append([]int{}, pt.Size...), Data: out}, nil
}

// storageFloat64s converts a gopickle storage to float64.
func storageFloat64s(s pytorch.StorageInterface) ([]float64, string, error) {
	switch st := s.(type) {
	case *pytorch.FloatStorage:
		return convert(st.Data, func(v float32) float64 { return float64(v) }), "F32", nil
	case *pytorch.DoubleStorage:
		return append([]float64{}, st.Data...), "F64", nil
	case *pytorch.HalfStorage:
		return convert(st.Data, func(v float32) float64 { return float64(v) }), "F16", nil
	case *pytorch.BFloat16Storage:
		return convert(st.Data, func(v float32) float64 { return float64(v) }), "BF16", nil
	case *pytorch.LongStorage:
		return convert(st.Data, func(v int64) float64 { return float64(v) }), "I64", nil
	case *pytorch.IntStorage:
		return convert(st.Data, func(v int32) float64 { return float64(v) }), "I32", nil
	case *pytorch.ShortStorage:
		return convert(st.Data, func(v int16) float64 { return float64(v) }), "I16", nil
	case *pytorch.CharStorage:
		return convert(st.Data, func(v int8) float64 { return float64(v) }), "I8", nil
	case *pytorch.ByteStorage:
		return convert(st.Data, func(v uint8) float64 { return float64(v) }), "U8", nil
	case *pytorch.BoolStorage:
		return convert(st.Data, func(v bool) float64 {
			if v {
				return 1
			}
			return 0
		}), "BOOL", nil
	}
	return nil, "", fmt.Errorf("storage type %T not supported", s)
}

func convert[T any](in []T, f func(T) float64) []float64 {
	out := make([]float64, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
