package bert

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/synergo/synergo/synergy/nn"
)

// LoadReport says what a checkpoint load used and skipped.
type LoadReport struct {
	File    string   // the weights file read
	Loaded  int      // number of parameters set
	Ignored []string // checkpoint tensors with no matching parameter (cls.* heads, position_ids, ...), sorted
}

// ReadCheckpointTensors reads the weights of a Hugging Face checkpoint
// folder: model.safetensors if present, else pytorch_model.bin. It returns
// the tensors and the file read.
func ReadCheckpointTensors(dir string) (Tensors, string, error) {
	st := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(st); err == nil {
		ts, err := ReadSafetensors(st)
		return ts, st, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, st, fmt.Errorf("bert: %w", err)
	}
	bin := filepath.Join(dir, "pytorch_model.bin")
	if _, err := os.Stat(bin); err != nil {
		return nil, dir, fmt.Errorf("bert: checkpoint folder %s has neither model.safetensors nor pytorch_model.bin", dir)
	}
	ts, err := ReadTorchStateDict(bin)
	return ts, bin, err
}

// LoadPretrained builds a Model from a Hugging Face checkpoint folder
// (config.json, vocab.txt, model.safetensors or pytorch_model.bin) into ps,
// and returns it with its tokenizer. See LoadTensors for the matching.
func LoadPretrained(dir string, ps *nn.ParamSet) (*Model, *Tokenizer, LoadReport, error) {
	return loadPretrained(dir, ps, true)
}

// LoadPretrainedWithoutPooler is LoadPretrained for a model without the
// pooler (see NewWithoutPooler); the checkpoint's pooler tensors are listed
// as ignored.
func LoadPretrainedWithoutPooler(dir string, ps *nn.ParamSet) (*Model, *Tokenizer, LoadReport, error) {
	return loadPretrained(dir, ps, false)
}

func loadPretrained(dir string, ps *nn.ParamSet, pooler bool) (*Model, *Tokenizer, LoadReport, error) {
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, nil, LoadReport{}, err
	}
	tok, err := LoadTokenizer(dir)
	if err != nil {
		return nil, nil, LoadReport{}, err
	}
	if tok.Vocab.Size() != cfg.VocabSize {
		return nil, nil, LoadReport{}, fmt.Errorf("bert: %s: vocab.txt has %d tokens, config.json vocab_size is %d", dir, tok.Vocab.Size(), cfg.VocabSize)
	}
	m, err := newModel(ps, cfg, nil, pooler) // every value is overwritten below
	if err != nil {
		return nil, nil, LoadReport{}, err
	}
	ts, file, err := ReadCheckpointTensors(dir)
	if err != nil {
		return nil, nil, LoadReport{}, err
	}
	rep, err := m.LoadTensors(ts)
	rep.File = file
	if err != nil {
		return nil, nil, rep, fmt.Errorf("bert: %s: %w", file, err)
	}
	return m, tok, rep, nil
}

// LoadTensors sets every parameter of m from the tensor of the same name
// (the "bert." prefix optional; LayerNorm gamma/beta accepted for
// weight/bias), transposing Linear weights from Hugging Face's (out, in).
// A missing tensor, a wrong shape or a non-finite
// value is an error naming the tensor; nothing is changed then. Tensors that
// match no parameter are listed in the report.
func (m *Model) LoadTensors(ts Tensors) (LoadReport, error) {
	byName := map[string]*Tensor{}
	var rep LoadReport
	for key, t := range ts {
		name := key
		if !strings.HasPrefix(name, ParamPrefix) {
			name = ParamPrefix + name
		}
		if strings.HasSuffix(name, "LayerNorm.gamma") {
			name = strings.TrimSuffix(name, "gamma") + "weight"
		} else if strings.HasSuffix(name, "LayerNorm.beta") {
			name = strings.TrimSuffix(name, "beta") + "bias"
		}
		byName[name] = t
	}
	params := m.Params()
	values := make([][]float64, len(params))
	used := map[*Tensor]bool{}
	for i, p := range params {
		t, ok := byName[p.Name]
		if !ok {
			return rep, fmt.Errorf("checkpoint has no tensor %q (nor %q)", p.Name, strings.TrimPrefix(p.Name, ParamPrefix))
		}
		used[t] = true
		want := p.Shape
		transpose := m.linearWeights[p]
		if transpose {
			want = []int{p.Shape[1], p.Shape[0]}
		}
		if !slices.Equal(t.Shape, want) {
			layout := ""
			if transpose {
				layout = " (Hugging Face's (out, in) layout)"
			}
			return rep, fmt.Errorf("tensor %q has shape %v, want %v%s", t.Name, t.Shape, want, layout)
		}
		for j, v := range t.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return rep, fmt.Errorf("tensor %q has a non-finite value %v at flat index %d", t.Name, v, j)
			}
		}
		if transpose {
			values[i] = transposed(t.Data, want[0], want[1])
		} else {
			values[i] = t.Data
		}
	}
	for i, p := range params {
		if err := p.SetFloat64s(values[i]); err != nil {
			return rep, err
		}
	}
	rep.Loaded = len(params)
	for _, name := range ts.Names() {
		if !used[ts[name]] {
			rep.Ignored = append(rep.Ignored, name)
		}
	}
	return rep, nil
}

// ExportTensors returns the parameters under Hugging Face's names and
// layouts (Linear weights (out, in)), ready for WriteSafetensors.
func (m *Model) ExportTensors() Tensors {
	ts := Tensors{}
	for _, p := range m.Params() {
		t := &Tensor{Name: p.Name, Dtype: "F32", Shape: append([]int{}, p.Shape...), Data: p.Float64s()}
		if m.linearWeights[p] {
			t.Shape = []int{p.Shape[1], p.Shape[0]}
			t.Data = transposed(t.Data, p.Shape[0], p.Shape[1])
		}
		ts[p.Name] = t
	}
	return ts
}

// transposed returns the transpose of the row-major (r, c) matrix a.
func transposed(a []float64, r, c int) []float64 {
	out := make([]float64, len(a))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = a[i*c+j]
		}
	}
	return out
}
