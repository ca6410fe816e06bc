package bert_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/synergo/synergo/synergy/bert"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Tokenize a sentence with the vocabulary of a checkpoint folder.
func ExampleTokenizer_Encode() {
	tok, err := bert.LoadTokenizer("testdata/tiny_checkpoint")
	if err != nil {
		fmt.Println(err)
		return
	}
	enc, err := tok.Encode("Unaffable Café!", 8)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(enc.Tokens)
	fmt.Println(enc.Mask)
	// Output:
	// [[CLS] un ##aff ##able cafe ! [SEP] [PAD]]
	// [1 1 1 1 1 1 1 0]
}

// Build a small BERT from scratch for synthetic token ids and encode a
// batch of two padded sequences.
func ExampleModel_Forward() {
	cfg, _ := bert.NamedConfig("tiny")
	cfg.VocabSize, cfg.MaxPositionEmbeddings = 50, 16
	ps := nn.NewParamSet(tensor.Float32)
	m, err := bert.New(ps, cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	g := nn.NewGraph(tensor.Float32, false) // evaluation graph: no dropout
	in := bert.NewInputs(g, "text", 2, 6)
	seq, pooled, err := m.Forward(g, in.IDs, in.TypeIDs, in.Mask)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	ids := [][]int{{2, 17, 23, 5, 3, 0}, {2, 41, 3, 0, 0, 0}}
	mask := [][]int{{1, 1, 1, 1, 1, 0}, {1, 1, 1, 0, 0, 0}}
	if err := in.FeedInts(ids, nil, mask); err != nil {
		fmt.Println(err)
		return
	}
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(seq.Shape(), pooled.Shape(), len(ps.Params()))
	// Output: (2, 6, 128) (2, 128) 39
}
