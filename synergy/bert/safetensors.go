package bert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/synergo/synergo/internal/pyload"
)

// maxSafetensorsHeader bounds the JSON header (the format's reference
// implementation allows 100 MB).
const maxSafetensorsHeader = 100 << 20

// safetensorsDtypeSize gives the element size of each storage type.
var safetensorsDtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}

type safetensorsEntry struct {
	Dtype       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets []int  `json:"data_offsets"`
}

// ReadSafetensors reads a .safetensors file (see ParseSafetensors).
func ReadSafetensors(path string) (Tensors, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	ts, err := ParseSafetensors(raw)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", path, err)
	}
	return ts, nil
}

// ParseSafetensors decodes the safetensors format: an unsigned 64-bit
// little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
// then the little-endian data, offsets counted from the end of the header.
// F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL are converted to
// float64. It returns an error, never panics, on malformed input: a short
// file, a header that is not JSON, an unknown dtype, a negative dimension,
// offsets outside the data or not matching the shape.
func ParseSafetensors(raw []byte) (Tensors, error) {
	if len(raw) < 8 {
		return nil, fmt.Errorf("safetensors: file has %d bytes, need at least 8 for the header length", len(raw))
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n > maxSafetensorsHeader || n > uint64(len(raw)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the file (%d bytes) or the %d-byte limit", n, len(raw), maxSafetensorsHeader)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("safetensors: header is not a JSON object: %w", err)
	}
	data := raw[8+n:]
	ts := Tensors{}
	for name, msg := range header {
		if name == "__metadata__" {
			continue
		}
		var e safetensorsEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: header entry: %w", name, err)
		}
		t, err := decodeSafetensorsEntry(name, e, data)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		ts[name] = t
	}
	return ts, nil
}

func decodeSafetensorsEntry(name string, e safetensorsEntry, data []byte) (*Tensor, error) {
	size, ok := safetensorsDtypeSize[e.Dtype]
	if !ok {
		return nil, fmt.Errorf("dtype %q not supported (want F64, F32, F16, BF16 or an integer type)", e.Dtype)
	}
	if e.Shape == nil {
		return nil, fmt.Errorf("missing shape")
	}
	if len(e.DataOffsets) != 2 {
		return nil, fmt.Errorf("data_offsets %v, want [begin, end]", e.DataOffsets)
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin < 0 || end < begin || end > len(data) {
		return nil, fmt.Errorf("data_offsets [%d, %d] outside the %d data bytes", begin, end, len(data))
	}
	count, err := numElements(e.Shape, len(data)/size+1)
	if err != nil {
		return nil, err
	}
	if count*size != end-begin {
		return nil, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets span %d", e.Shape, e.Dtype, count*size, end-begin)
	}
	b := data[begin:end]
	out := make([]float64, count)
	le := binary.LittleEndian
	for i := range out {
		p := b[i*size:]
		switch e.Dtype {
		case "F64":
			out[i] = math.Float64frombits(le.Uint64(p))
		case "F32":
			out[i] = float64(math.Float32frombits(le.Uint32(p)))
		case "F16":
			out[i] = pyload.Float16(le.Uint16(p))
		case "BF16":
			out[i] = bfloat16ToFloat64(le.Uint16(p))
		case "I64":
			out[i] = float64(int64(le.Uint64(p)))
		case "I32":
			out[i] = float64(int32(le.Uint32(p)))
		case "I16":
			out[i] = float64(int16(le.Uint16(p)))
		case "I8":
			out[i] = float64(int8(p[0]))
		case "U8", "BOOL":
			out[i] = float64(p[0])
		}
	}
	return &Tensor{Name: name, Dtype: e.Dtype, Shape: append([]int{}, e.Shape...), Data: out}, nil
}

// WriteSafetensors writes ts in the safetensors format as F32 (dtype F32)
// in name order, with metadata {"format": "pt"} so that Hugging Face
// loaders accept it. The header is padded with spaces to 8 bytes.
func WriteSafetensors(w io.Writer, ts Tensors) error {
	names := ts.Names()
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	offset := 0
	for _, name := range names {
		t := ts[name]
		n, err := numElements(t.Shape, math.MaxInt32)
		if err != nil || n != len(t.Data) {
			return fmt.Errorf("bert: WriteSafetensors: tensor %q has shape %v and %d values", name, t.Shape, len(t.Data))
		}
		header[name] = safetensorsEntry{Dtype: "F32", Shape: t.Shape, DataOffsets: []int{offset, offset + 4*n}}
		offset += 4 * n
	}
	h, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("bert: WriteSafetensors: %w", err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	buf := make([]byte, 8, 8+len(h)+offset)
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	for _, name := range names {
		for _, v := range ts[name].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
		}
	}
	_, err = w.Write(buf)
	return err
}
