package mfnrec

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyInputs returns the input nodes of a recurrence with batch 2, 3
// steps, inputs of widths 4, 2, 3, LSTM sizes 3, 2, 2, memory 5 and
// network hidden widths 6, 4, 3, 2, on a fresh float64 graph.
func tinyInputs() Inputs {
	g := G.NewGraph()
	const B, T, M = 2, 3, 5
	in, hidden, netHidden := [3]int{4, 2, 3}, [3]int{3, 2, 2}, [4]int{6, 4, 3, 2}
	node := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name))
	}
	var x Inputs
	width := 2 * (hidden[0] + hidden[1] + hidden[2])
	for m := range x.X {
		x.X[m] = node("x"+modalities[m], B, T, in[m])
		x.Mask[m] = node("mask"+modalities[m], B, T)
		x.LSTM[m] = LSTM{Wx: node("wx"+modalities[m], in[m], 4*hidden[m]), Wh: node("wh"+modalities[m], hidden[m], 4*hidden[m]), B: node("b"+modalities[m], 4*hidden[m])}
	}
	x.MemoryMask = node("memmask", B, T)
	netIn, netOut := [4]int{width, width, width + M, width + M}, [4]int{width, M, M, M}
	for k := range x.Nets {
		x.Nets[k] = Net{W1: node("w1"+netNames[k], netIn[k], netHidden[k]), B1: node("b1"+netNames[k], netHidden[k]),
			W2: node("w2"+netNames[k], netHidden[k], netOut[k]), B2: node("b2"+netNames[k], netOut[k])}
	}
	return x
}

func TestApplyShapes(t *testing.T) {
	h, u, err := Apply(tinyInputs())
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range []int{3, 2, 2} {
		if s := h[m].Shape(); !s.Eq(tensor.Shape{2, want}) {
			t.Errorf("h_%s has shape %v, want (2, %d)", modalities[m], s, want)
		}
	}
	if s := u.Shape(); !s.Eq(tensor.Shape{2, 5}) {
		t.Errorf("u has shape %v, want (2, 5)", s)
	}
}

// Wrong or missing inputs are errors naming the input, not panics.
func TestApplyRejectsBadInputs(t *testing.T) {
	bad := tinyInputs()
	g := bad.X[0].Graph()
	bad.Nets[2].B1 = G.NewVector(g, tensor.Float64, G.WithShape(7), G.WithName("wrong"))
	if _, _, err := Apply(bad); err == nil || !strings.Contains(err.Error(), "gamma1.b1") {
		t.Errorf("a γ1 bias of the wrong size: err = %v, want one naming gamma1.b1", err)
	}
	missing := tinyInputs()
	missing.MemoryMask = nil
	if _, _, err := Apply(missing); err == nil {
		t.Error("a nil memory mask gave no error")
	}
	noNet := tinyInputs()
	noNet.Nets[0].W2 = nil
	if _, _, err := Apply(noNet); err == nil || !strings.Contains(err.Error(), "nn1") {
		t.Errorf("a missing NN1 weight: err = %v, want one naming nn1", err)
	}
}
