package bert

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/synergo/synergo/internal/pyload"
)

// maxPickleBytes bounds data.pkl (a state dict's pickle is a few hundred
// kilobytes even for BERT-large).
const maxPickleBytes = 256 << 20

// ReadTorchStateDict reads a PyTorch state dict saved with torch.save in
// the zip format (PyTorch ≥ 1.6; <archive>/data.pkl plus one file per
// storage under <archive>/data/), as Hugging Face's pytorch_model.bin.
// data.pkl is decoded by gopickle's unpickler with only torch's tensor
// rebuild and storage classes resolved; before that its length fields are
// checked, and every storage's element count is checked against its zip
// entry before anything is allocated, so corrupt input gives an error.
// Float, double, half, bfloat16 and integer storages are converted to
// float64; strided tensors are gathered. The legacy (pre-1.6) format is
// refused.
func ReadTorchStateDict(file string) (ts Tensors, err error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: not a zip archive (%v); only torch.save's zip format (PyTorch ≥ 1.6) is supported", file, err)
	}
	defer zr.Close()
	defer func() { // gopickle may still panic on input that passes the checks
		if r := recover(); r != nil {
			ts, err = nil, fmt.Errorf("bert: %s: malformed PyTorch file: %v", file, r)
		}
	}()
	var pkl *zip.File
	for _, f := range zr.File {
		if path.Base(f.Name) == "data.pkl" {
			pkl = f
			break
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("bert: %s: no data.pkl in the archive", file)
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl") + "data/"
	records := map[string]*zip.File{}
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, prefix) {
			records[strings.TrimPrefix(f.Name, prefix)] = f
		}
	}
	raw, err := readZipEntry(pkl, maxPickleBytes)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: data.pkl: %w", file, err)
	}
	if err := pyload.CheckLengths(bufio.NewReader(bytes.NewReader(raw)), int64(len(raw))); err != nil {
		return nil, fmt.Errorf("bert: %s: data.pkl: %w", file, err)
	}
	u := pickle.NewUnpickler(bytes.NewReader(raw))
	u.FindClass = torchClass
	storages := map[string]pytorch.StorageInterface{}
	u.PersistentLoad = func(id any) (any, error) { return loadStorage(id, records, storages) }
	obj, err := u.Load()
	if err != nil {
		return nil, fmt.Errorf("bert: %s: data.pkl: %w", file, err)
	}
	ts = Tensors{}
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("bert: %s: state dict key %v is %T, want a string", file, k, k)
		}
		pt, ok := v.(*pytorch.Tensor)
		if !ok {
			return nil // not a tensor; ignored
		}
		t, err := torchTensor(name, pt)
		if err != nil {
			return fmt.Errorf("bert: %s: tensor %q: %w", file, name, err)
		}
		ts[name] = t
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry, ok := e.Value.(*types.OrderedDictEntry)
			if !ok {
				return nil, fmt.Errorf("bert: %s: malformed state dict entry", file)
			}
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
		return nil, fmt.Errorf("bert: %s: top-level object is %T, want a state dict", file, obj)
	}
	return ts, nil
}

// readZipEntry reads f whole if it declares at most limit bytes.
func readZipEntry(f *zip.File, limit uint64) ([]byte, error) {
	if f.UncompressedSize64 > limit {
		return nil, fmt.Errorf("entry %s declares %d bytes, more than the %d allowed", f.Name, f.UncompressedSize64, limit)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("entry %s holds %d bytes, declares %d", f.Name, len(b), f.UncompressedSize64)
	}
	return b, nil
}

// torchClass resolves the globals a state dict pickle names: the tensor
// rebuild function, the storage types and collections.OrderedDict (which
// gopickle resolves before asking). Anything else is refused.
func torchClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return &pytorch.RebuildTensorV2{}, nil
	case "torch.FloatStorage":
		return &pytorch.FloatStorageClass{}, nil
	case "torch.DoubleStorage":
		return &pytorch.DoubleStorageClass{}, nil
	case "torch.HalfStorage":
		return &pytorch.HalfStorageClass{}, nil
	case "torch.BFloat16Storage":
		return &pytorch.BFloat16StorageClass{}, nil
	case "torch.LongStorage":
		return &pytorch.LongStorageClass{}, nil
	case "torch.IntStorage":
		return &pytorch.IntStorageClass{}, nil
	case "torch.ShortStorage":
		return &pytorch.ShortStorageClass{}, nil
	case "torch.CharStorage":
		return &pytorch.CharStorageClass{}, nil
	case "torch.ByteStorage":
		return &pytorch.ByteStorageClass{}, nil
	case "torch.BoolStorage":
		return &pytorch.BoolStorageClass{}, nil
	}
	return nil, fmt.Errorf("global %s.%s is not allowed in a state dict", module, name)
}

// storageElementSize gives the bytes per element of each storage class.
func storageElementSize(c pytorch.StorageClassInterface) int {
	switch c.(type) {
	case *pytorch.DoubleStorageClass, *pytorch.LongStorageClass:
		return 8
	case *pytorch.FloatStorageClass, *pytorch.IntStorageClass:
		return 4
	case *pytorch.HalfStorageClass, *pytorch.BFloat16StorageClass, *pytorch.ShortStorageClass:
		return 2
	}
	return 1
}

// loadStorage resolves a persistent id ('storage', class, key, location,
// size): the storage's zip entry must hold exactly size elements.
func loadStorage(id any, records map[string]*zip.File, loaded map[string]pytorch.StorageInterface) (any, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, fmt.Errorf("persistent id %v is not a ('storage', class, key, location, size) tuple", id)
	}
	kind, _ := t.Get(0).(string)
	class, okClass := t.Get(1).(pytorch.StorageClassInterface)
	key, okKey := t.Get(2).(string)
	location, okLoc := t.Get(3).(string)
	size, okSize := t.Get(4).(int)
	if kind != "storage" || !okClass || !okKey || !okLoc || !okSize || size < 0 {
		return nil, fmt.Errorf("persistent id %v is not a ('storage', class, key, location, size) tuple", id)
	}
	if s, ok := loaded[key]; ok {
		return s, nil
	}
	rec, ok := records[key]
	if !ok {
		return nil, fmt.Errorf("storage %q has no entry in the archive", key)
	}
	elem := storageElementSize(class)
	if rec.UncompressedSize64 != uint64(size)*uint64(elem) || uint64(size) > rec.UncompressedSize64 {
		return nil, fmt.Errorf("storage %q: %d elements of %d bytes, the archive entry holds %d bytes", key, size, elem, rec.UncompressedSize64)
	}
	raw, err := readZipEntry(rec, rec.UncompressedSize64)
	if err != nil {
		return nil, err
	}
	s := class.New(size, location)
	if err := s.SetFromFileWithSize(bytes.NewReader(raw), size); err != nil {
		return nil, fmt.Errorf("storage %q: %w", key, err)
	}
	loaded[key] = s
	return s, nil
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
