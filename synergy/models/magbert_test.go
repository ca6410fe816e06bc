package models

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/bert"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyBertText is a from-scratch "tiny" encoder over 23 token ids and rows
// of 6 tokens, for tests.
func tinyBertText() BertTextConfig {
	return BertTextConfig{Size: "tiny", VocabSize: 23, TokenLen: 6}
}

// withTokens adds token-id rows [CLS]=2, word ids, [SEP]=3, 0 padding to b:
// row i has min(audio length, TokenLen−2) words.
func withTokens(rng *rand.Rand, b *datasets.Batch, tokenLen, vocab int) *datasets.Batch {
	b.TokenIDs = make([][]int32, b.Size())
	for i := range b.TokenIDs {
		row := make([]int32, tokenLen)
		n := min(b.Features[datasets.Audio].Lengths[i], tokenLen-2)
		row[0] = 2
		for p := 1; p <= n; p++ {
			row[p] = int32(4 + rng.IntN(vocab-4))
		}
		row[n+1] = 3
		b.TokenIDs[i] = row
	}
	return b
}

func tinyMAGBERT(t testing.TB, dt tensor.Dtype) *MAGBERT {
	t.Helper()
	cfg, err := DefaultMAGBERTConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bert = tinyBertText()
	m, err := NewMAGBERT(cfg, tinyAlignedDims, dt, 5)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMAGAlphaGradCheck checks the custom α op on rows with α < 1 and with
// the min at 1.
func TestMAGAlphaGradCheck(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	rng := rand.New(rand.NewPCG(1, 1))
	tp := ps.Add("t", []int{4, 3}, nn.Normal(1), rng)
	hp := ps.Add("h", []int{4, 3}, nn.Normal(1), rng)
	// Row 2: a long shift, so α = β‖t‖/‖h‖ < 1; row 3: a short one, α = 1.
	h := hp.Float64s()
	for j := 0; j < 3; j++ {
		h[2*3+j] *= 10
		h[3*3+j] *= 0.01
	}
	if err := hp.SetFloat64s(h); err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, false)
	alpha, err := magAlpha(g.Param(tp), g.Param(hp), nil, 0.7)
	if err != nil {
		t.Fatal(err)
	}
	w := g.Constant([]float64{0.3, -1.2, 0.8, 2.0}, 4)
	prod, err := G.HadamardProd(alpha, w)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, cost, []*nn.Param{tp, hp}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MAG α: worst relative error %.2e over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-7 {
		t.Errorf("MAG α gradient: %+v", res)
	}
	vals := values(alpha)
	if vals[2] >= 1 || vals[3] != 1 {
		t.Errorf("α = %v: want row 2 below 1 and row 3 at 1", vals)
	}
}

// TestMAGAlphaZeroShift: ‖H‖ = 0 is replaced by 1 (the original's
// torch.where), giving α = min(β‖t‖/(1+ε), 1) and a zero gradient.
func TestMAGAlphaZeroShift(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	tp := ps.Add("t", []int{1, 2}, nn.Zeros, nil)
	hp := ps.Add("h", []int{1, 2}, nn.Zeros, nil)
	if err := tp.SetFloat64s([]float64{0.3, 0.4}); err != nil { // ‖t‖ = 0.5
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, false)
	alpha, err := magAlpha(g.Param(tp), g.Param(hp), nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(alpha)
	if err != nil {
		t.Fatal(err)
	}
	nodes := g.ParamNodes([]*nn.Param{tp, hp})
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got, want := values(alpha)[0], 0.5/(1+magEpsilon); math.Abs(got-want) > 1e-15 {
		t.Errorf("α = %v, want %v", got, want)
	}
	grads, err := g.Grads([]*nn.Param{tp, hp})
	if err != nil {
		t.Fatal(err)
	}
	dt, dh := grads[0].Data().([]float64), grads[1].Data().([]float64)
	if dh[0] != 0 || dh[1] != 0 || !allFinite(dt) || math.Abs(dt[0]-0.3/0.5/(1+magEpsilon)) > 1e-12 {
		t.Errorf("gradients at a zero shift: dt %v, dh %v", dt, dh)
	}
}

// TestMAGBERTGradCheck checks the parameters of MAG-BERT (gates, shifts,
// LayerNorm, head, and the encoder's entry and exit; see gradCheckSubset)
// with dropout in the graph.
func TestMAGBERTGradCheck(t *testing.T) {
	const batch = 2
	m := tinyMAGBERT(t, tensor.Float64)
	rng := rand.New(rand.NewPCG(21, 22))
	b := withTokens(rng, randomBatch(rng, m.dims, batch), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	g := nn.NewGraph(tensor.Float64, true)
	out, err := m.Build(g, batch)
	if err != nil {
		t.Fatal(err)
	}
	cost := sumAll(t, out)
	feed := func() error {
		if err := m.Feed(g, b); err != nil {
			return err
		}
		return g.SampleMasks(rand.New(rand.NewPCG(1, 1)))
	}
	res, err := nn.GradCheck(g, cost, gradCheckSubset(m.Params()), nn.GradCheckOptions{MaxPerParam: 3, Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("magbert: max rel err %.2e over %d entries (worst %s[%d]: analytic %.6g, numeric %.6g)",
		res.MaxRelErr, res.Checked, res.Param, res.Index, res.Analytic, res.Numeric)
	// The 128-wide LayerNorms of the "tiny" encoder make the central
	// difference noisy at ~1e−9 absolute (relative 1e−6 at the 1e−3 floor);
	// a wrong gradient is off by O(1).
	if res.MaxRelErr > 1e-5 {
		t.Errorf("magbert gradient check: %+v", res)
	}
}

// magTokenRows feeds b to a fresh evaluation graph of m and returns the
// audio and vision rows MAG reads, (B·TokenLen, D) each.
func magTokenRows(t *testing.T, m *MAGBERT, b *datasets.Batch) (audio, vision []float64) {
	t.Helper()
	g := nn.NewGraph(tensor.Float64, false)
	if _, err := m.Build(g, b.Size()); err != nil {
		t.Fatal(err)
	}
	if err := m.Feed(g, b); err != nil {
		t.Fatal(err)
	}
	in := g.Inputs()
	return in[inputName("magbert", "audio_tokens")].Value().Data().([]float64),
		in[inputName("magbert", "vision_tokens")].Value().Data().([]float64)
}

// wordFrames returns n sequences of T steps of D features whose step s of
// sample i holds 100·i + 10·s + d + 1 (so every frame is distinct and
// non-zero), with the given lengths.
func wordFrames(n, T, D int, lengths []int) *datasets.Sequences {
	s := &datasets.Sequences{N: n, T: T, D: D, Data: make([]float32, n*T*D), Lengths: lengths}
	for i := 0; i < n; i++ {
		for st := 0; st < lengths[i]; st++ {
			for d := 0; d < D; d++ {
				s.Data[(i*T+st)*D+d] = float32(100*i + 10*st + d + 1)
			}
		}
	}
	return s
}

// checkTokenRows checks that token p of sample i holds frame steps[i][p] of
// s (zero for −1).
func checkTokenRows(t *testing.T, what string, rows []float64, s *datasets.Sequences, steps [][]int, L int) {
	t.Helper()
	for i := range steps {
		for p, st := range steps[i] {
			for d := 0; d < s.D; d++ {
				want := 0.0
				if st >= 0 {
					want = float64(s.At(i, st, d))
				}
				if got := rows[(i*L+p)*s.D+d]; got != want {
					t.Fatalf("%s: sample %d token %d dim %d holds %v, want %v (frame %d)", what, i, p, d, got, want, st)
				}
			}
		}
	}
}

// TestMAGBERTWordPieces: with a tokenizer's word index as token steps
// (the original driver's convert_to_features), every word piece of a word
// carries that word's acoustic and visual frame, and [CLS], [SEP] and
// padding carry zeros.
func TestMAGBERTWordPieces(t *testing.T) {
	tok, err := bert.LoadTokenizer(filepath.Join("..", "bert", "testdata", "tiny_checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	const L = 12
	cfg, err := DefaultMAGBERTConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bert = BertTextConfig{Size: "tiny", VocabSize: tok.Vocab.Size(), TokenLen: L}
	dims := Dims{T: [3]int{6, 6, 6}, D: [3]int{2, 3, 2}}
	m, err := NewMAGBERT(cfg, dims, tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	// "Unaffable" is three pieces (un ##aff ##able), "it's" three (it ' s).
	sentences := [][]string{{"Unaffable", "movie", "it's"}, {"movie", "Unaffable"}}
	b := &datasets.Batch{Labels: make([]float32, 2)}
	wantSteps := make([][]int, 2)
	for i, words := range sentences {
		enc, err := tok.EncodeWords(words, L)
		if err != nil {
			t.Fatal(err)
		}
		ids, steps := make([]int32, L), make([]int32, L)
		for p := range enc.IDs {
			ids[p], steps[p] = int32(enc.IDs[p]), int32(enc.WordIndex[p])
		}
		b.TokenIDs, b.TokenSteps = append(b.TokenIDs, ids), append(b.TokenSteps, steps)
		wantSteps[i] = enc.WordIndex
	}
	if got := wantSteps[0][:9]; !slices.Equal(got, []int{-1, 0, 0, 0, 1, 2, 2, 2, -1}) {
		t.Fatalf("word index of sentence 0: %v", got)
	}
	lengths := []int{3, 2}
	for mod := range b.Features {
		b.Features[mod] = wordFrames(2, dims.T[mod], dims.D[mod], lengths)
	}
	audio, vision := magTokenRows(t, m, b)
	checkTokenRows(t, "audio", audio, b.Features[datasets.Audio], wantSteps, L)
	checkTokenRows(t, "vision", vision, b.Features[datasets.Vision], wantSteps, L)
}

// TestMAGBERTMMSAAligned: on a hand-made batch shaped like MMSA's aligned
// files (frames aligned to the tokens: a word's frame repeated on each of
// its pieces; TokenSteps the positions, as datasets' MMSA loader sets
// them) token p reads frame p, [CLS] and [SEP] included, as MMSA's BERT_MAG
// does, so frame i of a word reaches exactly that word's pieces and no
// frame is dropped.
func TestMAGBERTMMSAAligned(t *testing.T) {
	const L = 8
	cfg, err := DefaultMAGBERTConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bert = BertTextConfig{Size: "tiny", VocabSize: 30, TokenLen: L}
	dims := Dims{T: [3]int{L, L, L}, D: [3]int{2, 3, 2}}
	m, err := NewMAGBERT(cfg, dims, tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Sample 0: [CLS] w0 w0 w0 w1 [SEP] (a three-piece and a one-piece
	// word); sample 1: [CLS] w0 w1 w1 w2 w2 w2 [SEP] (all 8 positions).
	ids := [][]int32{{2, 10, 11, 12, 13, 3, 0, 0}, {2, 14, 15, 16, 17, 18, 19, 3}}
	pieceWord := [][]int{{-1, 0, 0, 0, 1, -1}, {-1, 0, 1, 1, 2, 2, 2, -1}}
	b := &datasets.Batch{Labels: make([]float32, 2), TokenIDs: ids}
	lengths := []int{6, 8}
	for mod := range b.Features {
		s := &datasets.Sequences{N: 2, T: L, D: dims.D[mod], Data: make([]float32, 2*L*dims.D[mod]), Lengths: lengths}
		for i, words := range pieceWord {
			for p, w := range words {
				for d := 0; d < s.D; d++ {
					v := float32(0.5) // [CLS]/[SEP] frames: MMSA's values there, whatever they are
					if w >= 0 {
						v = float32(100*i + 10*w + d + 1)
					}
					s.Data[(i*L+p)*s.D+d] = v
				}
			}
		}
		b.Features[mod] = s
	}
	b.TokenSteps = make([][]int32, 2)
	positions := make([][]int, 2)
	for i := range ids {
		b.TokenSteps[i] = make([]int32, L)
		positions[i] = make([]int, L)
		for p := range b.TokenSteps[i] {
			b.TokenSteps[i][p], positions[i][p] = -1, -1
			if p < lengths[i] {
				b.TokenSteps[i][p], positions[i][p] = int32(p), p
			}
		}
	}
	audio, vision := magTokenRows(t, m, b)
	checkTokenRows(t, "audio", audio, b.Features[datasets.Audio], positions, L)
	checkTokenRows(t, "vision", vision, b.Features[datasets.Vision], positions, L)
	// Each word's frame is on exactly that word's pieces.
	D := dims.D[datasets.Audio]
	for i, words := range pieceWord {
		for p, w := range words {
			if w < 0 {
				continue
			}
			if got, want := audio[(i*L+p)*D], float64(100*i+10*w+1); got != want {
				t.Errorf("sample %d piece %d (word %d): frame value %v, want %v", i, p, w, got, want)
			}
		}
	}
}

// TestMAGBERTFeedAlignsFrames: without token steps, frame s of audio goes
// to token s+1 and the [CLS], [SEP] and padding rows are zero.
func TestMAGBERTFeedAlignsFrames(t *testing.T) {
	m := tinyMAGBERT(t, tensor.Float64)
	rng := rand.New(rand.NewPCG(3, 3))
	b := randomBatch(rng, m.dims, 2)
	b.Features[datasets.Audio].Lengths = []int{4, 2}
	b = withTokens(rng, b, m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	g := nn.NewGraph(tensor.Float64, false)
	if _, err := m.Build(g, 2); err != nil {
		t.Fatal(err)
	}
	if err := m.Feed(g, b); err != nil {
		t.Fatal(err)
	}
	a := g.Inputs()[inputName("magbert", "audio_tokens")].Value().Data().([]float64)
	s := b.Features[datasets.Audio]
	L, D := m.cfg.Bert.TokenLen, s.D
	// Row 0: 4 words, TokenLen 6 → tokens 1..4 hold frames 0..3.
	// Row 1: 2 words → tokens 1..2 hold frames 0..1; 0, 3, 4, 5 are zero.
	for i, words := range []int{4, 2} {
		for p := 0; p < L; p++ {
			for d := 0; d < D; d++ {
				want := 0.0
				if p >= 1 && p <= words {
					want = float64(s.At(i, p-1, d))
				}
				if got := a[(i*L+p)*D+d]; got != want {
					t.Fatalf("sample %d token %d dim %d: %v, want %v", i, p, d, got, want)
				}
			}
		}
	}
	// Missing token ids and out-of-vocabulary ids are errors.
	b.TokenIDs = nil
	if err := m.Feed(g, b); err == nil || !strings.Contains(err.Error(), "TokenIDs") {
		t.Errorf("no token ids: err = %v", err)
	}
	b = withTokens(rng, b, m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	b.TokenIDs[1][1] = 23
	if err := m.Feed(g, b); err == nil || !strings.Contains(err.Error(), "token id 23 (sample 1, position 1)") {
		t.Errorf("id beyond vocabulary: err = %v", err)
	}
}

// TestMAGBERTTrains: a few AdamW steps on one batch lower the L1 loss.
func TestMAGBERTTrains(t *testing.T) {
	const batch = 6
	m := tinyMAGBERT(t, tensor.Float32)
	rng := rand.New(rand.NewPCG(8, 9))
	b := withTokens(rng, randomBatch(rng, m.dims, batch), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	losses := trainSteps(t, m, b, 40, 1e-3)
	t.Logf("magbert L1 loss: %.4f → %.4f", losses[0], losses[len(losses)-1])
	if !(losses[len(losses)-1] < 0.7*losses[0]) {
		t.Errorf("loss went from %v to %v", losses[0], losses[len(losses)-1])
	}
}

// gradCheckSubset returns the parameters of a BERT-based model to check by
// finite differences: all but the encoder's (checked in package bert),
// plus the encoder's word embeddings and its last LayerNorm, through which
// the model's gradient must reach the encoder.
func gradCheckSubset(ps *nn.ParamSet) []*nn.Param {
	var out []*nn.Param
	for _, p := range ps.Params() {
		if !strings.HasPrefix(p.Name, "bert.") || p.Name == "bert.embeddings.word_embeddings.weight" ||
			strings.HasSuffix(p.Name, ".output.LayerNorm.weight") {
			out = append(out, p)
		}
	}
	return out
}

// trainSteps runs steps AdamW steps of the L1 loss (plus Aux if present)
// on one batch and returns the losses.
func trainSteps(t testing.TB, m Model, b *datasets.Batch, steps int, lr float64) []float64 {
	t.Helper()
	step, closeVM := newAuxTrainer(t, m, b, lr)
	defer closeVM()
	var losses []float64
	for s := 0; s < steps; s++ {
		losses = append(losses, step())
	}
	return losses
}

// newAuxTrainer builds a training graph of m for batches like b with the
// cost L1(Pred, y) + Aux and returns a function doing one AdamW step on b
// (returning the L1 loss) and one releasing the machine.
func newAuxTrainer(t testing.TB, m Model, b *datasets.Batch, lr float64) (step func() float64, closeVM func()) {
	t.Helper()
	g := nn.NewGraph(m.Params().Dtype(), true)
	out, err := m.Build(g, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	loss, y := l1Loss(t, g, out.Pred)
	cost := loss
	if out.Aux != nil {
		if cost, err = G.Add(loss, out.Aux); err != nil {
			t.Fatal(err)
		}
	}
	params := m.Params().Params()
	nodes := g.ParamNodes(params)
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	opt := nn.NewAdamW(lr)
	rng := rand.New(rand.NewPCG(1, 2))
	step = func() float64 {
		if err := m.Feed(g, b); err != nil {
			t.Fatal(err)
		}
		if err := letLabels(g, y, b); err != nil {
			t.Fatal(err)
		}
		if err := g.SampleMasks(rng); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		l := values(loss)[0]
		grads, err := g.Grads(params)
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(params, grads); err != nil {
			t.Fatal(err)
		}
		if err := g.ZeroGrads(params); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		return l
	}
	return step, func() { vm.Close() }
}

// TestMAGGatedShiftIsExact: magGatedShift gives gorgonia's Rectify then
// HadamardProd bit for bit — the output and the gradients of both inputs,
// signed zeros included — for entries negative, zero (of both signs) and
// positive, in float32 and float64.
func TestMAGGatedShiftIsExact(t *testing.T) {
	const n, w = 30, 17
	rng := rand.New(rand.NewPCG(5, 6))
	a, b, c := make([]float64, n*w), make([]float64, n*w), make([]float64, n*w)
	for i := range a {
		a[i], b[i], c[i] = rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		switch i % 11 {
		case 3:
			a[i] = 0
		case 4:
			a[i] = math.Copysign(0, -1)
		case 5:
			b[i] = 0
		}
	}
	run := func(dt tensor.Dtype, fused bool) [3][]uint64 {
		g := nn.NewGraph(dt, true)
		an, bn := g.Input("a", n, w), g.Input("b", n, w)
		var y *G.Node
		var err error
		if fused {
			y, err = magGatedShift(an, bn, nil)
		} else {
			var r *G.Node
			if r, err = G.Rectify(an); err == nil {
				y, err = G.HadamardProd(r, bn)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(c, n, w)))))
		if _, err := G.Grad(cost, an, bn); err != nil {
			t.Fatal(err)
		}
		vm := nn.NewTapeMachine(g.G)
		defer vm.Close()
		for _, in := range []struct {
			n *G.Node
			v []float64
		}{{an, a}, {bn, b}} {
			if err := G.Let(in.n, newDense(dt, in.v, n, w)); err != nil {
				t.Fatal(err)
			}
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		da, err := an.Grad()
		if err != nil {
			t.Fatal(err)
		}
		db, err := bn.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return [3][]uint64{valueBits(y.Value()), valueBits(da), valueBits(db)}
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		want, got := run(dt, false), run(dt, true)
		for k, what := range []string{"out", "∂L/∂a", "∂L/∂b"} {
			if !slices.Equal(got[k], want[k]) {
				t.Fatalf("%v: %s differs from Rectify ⊙ b", dt, what)
			}
		}
	}
}

// TestMAGAlphaOpsMatchFloat64Path compares the α op and its two gradient
// ops on float32 values with their formulas evaluated on float64 copies of
// the inputs and rounded to float32 at the end (the ops' arithmetic before
// they kept typed buffers), bit for bit, over rows with α < 1, α = 1,
// ‖t‖ = 0 and ‖h‖ = 0, large enough to run in chunks on two goroutines; a
// second run on other values checks that the reused buffers are rewritten
// in full (rows active in the first run and not in the second).
func TestMAGAlphaOpsMatchFloat64Path(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const n, d, beta = 700, 96, 0.8
	rng := rand.New(rand.NewPCG(21, 22))
	alphaOp := &magAlphaOp{Base: opkit.Owned("alpha"), beta: beta}
	gradOps := []*magAlphaGradOp{newMAGAlphaGradOp(beta, 0, nil), newMAGAlphaGradOp(beta, 1, nil)}
	for run := 0; run < 2; run++ {
		tv, hv, gv := make([]float32, n*d), make([]float32, n*d), make([]float32, n)
		for i := 0; i < n; i++ {
			scale := float32(0.01 + 10*rng.Float64()) // α < 1 or = 1 by row
			if (i+run)%2 == 0 {
				scale = 0.001
			}
			for j := 0; j < d; j++ {
				tv[i*d+j], hv[i*d+j] = float32(rng.NormFloat64()), scale*float32(rng.NormFloat64())
			}
			gv[i] = float32(rng.NormFloat64())
		}
		clear(tv[3*d : 4*d]) // ‖t‖ = 0
		clear(hv[5*d : 6*d]) // ‖h‖ = 0
		tt := tensor.New(tensor.WithShape(n, d), tensor.WithBacking(tv))
		ht := tensor.New(tensor.WithShape(n, d), tensor.WithBacking(hv))
		gt := tensor.New(tensor.WithShape(n), tensor.WithBacking(gv))
		wide := func(x []float32) []float64 {
			y := make([]float64, len(x))
			for i, v := range x {
				y[i] = float64(v)
			}
			return y
		}
		t64, h64, g64 := wide(tv), wide(hv), wide(gv)

		got, err := alphaOp.Do(tt, ht)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			a, _, _, _, _ := magAlphaRow(t64[i*d:(i+1)*d], h64[i*d:(i+1)*d], beta)
			if g := got.Data().([]float32)[i]; math.Float32bits(g) != math.Float32bits(float32(a)) {
				t.Fatalf("run %d: α[%d] = %v, want %v", run, i, g, float32(a))
			}
		}
		for wrt, op := range gradOps {
			got, err := op.Do(tt, ht, gt)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				ti, hi := t64[i*d:(i+1)*d], h64[i*d:(i+1)*d]
				_, active, nt, nh, den := magAlphaRow(ti, hi, beta)
				for j := 0; j < d; j++ {
					want := 0.0
					if active && wrt == 0 && nt > 0 {
						want = g64[i] * beta / (nt * den) * ti[j]
					}
					if active && wrt == 1 && nh > 0 {
						want = -g64[i] * beta * nt / (nh * den * den) * hi[j]
					}
					if g := got.Data().([]float32)[i*d+j]; math.Float32bits(g) != math.Float32bits(float32(want)) {
						t.Fatalf("run %d, wrt %d: entry (%d, %d) = %v, want %v", run, wrt, i, j, g, float32(want))
					}
				}
			}
		}
	}
}

// TestMAGScaleIsExact: magScale gives gorgonia's BroadcastHadamardProd of
// h and α (α repeated along the rows' entries) bit for bit — the output
// and the gradients of h and α, signed zeros included — in float32 and
// float64 at a width of 37 (odd: the row sum's order shows); and with a
// row selection and an output gradient of 0 on the dropped rows, the same
// on the kept rows and 0 on the others.
func TestMAGScaleIsExact(t *testing.T) {
	const n, w = 30, 37
	rng := rand.New(rand.NewPCG(7, 8))
	h, alpha, c, keep := make([]float64, n*w), make([]float64, n), make([]float64, n*w), make([]float64, n)
	for i := range h {
		h[i], c[i] = rng.NormFloat64()*math.Exp(3*rng.NormFloat64()), rng.NormFloat64()
		if i%13 == 4 {
			h[i] = math.Copysign(0, -1)
		}
	}
	for i := range alpha {
		alpha[i] = rng.Float64()
		if keep[i] = float64(i % 3); keep[i] == 0 {
			for j := 0; j < w; j++ {
				c[i*w+j] = 0
			}
		}
	}
	alpha[5] = 0
	run := func(dt tensor.Dtype, fused, selected bool) [3][]uint64 {
		g := nn.NewGraph(dt, true)
		hn, an := g.Input("h", n, w), g.Input("alpha", n)
		var y *G.Node
		var err error
		switch {
		case fused && selected:
			y, err = magScale(hn, an, g.Constant(keep, n))
		case fused:
			y, err = magScale(hn, an, nil)
		default:
			y, err = G.BroadcastHadamardProd(hn, an, nil, []byte{1})
		}
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(c, n, w)))))
		if _, err := G.Grad(cost, hn, an); err != nil {
			t.Fatal(err)
		}
		vm := nn.NewTapeMachine(g.G)
		defer vm.Close()
		if err := G.Let(hn, newDense(dt, h, n, w)); err != nil {
			t.Fatal(err)
		}
		if err := G.Let(an, newDense(dt, alpha, n)); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		dh, err := hn.Grad()
		if err != nil {
			t.Fatal(err)
		}
		da, err := an.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return [3][]uint64{valueBits(y.Value()), valueBits(dh), valueBits(da)}
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		want, got, sel := run(dt, false, false), run(dt, true, false), run(dt, true, true)
		for k, what := range []string{"out", "∂L/∂h", "∂L/∂α"} {
			if !slices.Equal(got[k], want[k]) {
				t.Fatalf("%v: %s differs from BroadcastHadamardProd", dt, what)
			}
			per := len(want[k]) / n
			for i, v := range sel[k] {
				if keep[i/per] == 0 {
					if v != 0 {
						t.Fatalf("%v: %s[%d] = %x on a dropped row, want 0", dt, what, i, v)
					}
				} else if v != want[k][i] {
					t.Fatalf("%v, with a row selection: %s[%d] differs from BroadcastHadamardProd", dt, what, i)
				}
			}
		}
	}
}

// valueBits returns the bits of a float32 or float64 value's entries.
func valueBits(v G.Value) []uint64 {
	var out []uint64
	switch d := v.Data().(type) {
	case []float32:
		for _, x := range d {
			out = append(out, uint64(math.Float32bits(x)))
		}
	case []float64:
		for _, x := range d {
			out = append(out, math.Float64bits(x))
		}
	}
	return out
}

// The gradient ops of MAG's gated shift and scale have no derivative of
// their own: differentiating one is an error naming the op, and they are
// not differentiable w.r.t. any input; the forward ops are, w.r.t. both.
func TestMAGGradOpsRefuseSecondDerivative(t *testing.T) {
	for _, c := range []struct {
		fwd, grad interface {
			DiffWRT(int) []bool
			SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error)
		}
		what string
	}{
		{&magShiftOp{wrt: -1}, &magShiftOp{wrt: 0}, "gated shift"},
		{&magScaleOp{wrt: -1}, &magScaleOp{wrt: 1}, "scale"},
	} {
		if _, err := c.grad.SymDiff(nil, nil, nil); err == nil || !strings.Contains(err.Error(), "second derivative of MAG's "+c.what) {
			t.Errorf("%s: SymDiff of a gradient op: err = %v", c.what, err)
		}
		if d := c.grad.DiffWRT(3); !slices.Equal(d, []bool{false, false, false}) {
			t.Errorf("%s: gradient op DiffWRT = %v", c.what, d)
		}
		if d := c.fwd.DiffWRT(2); !slices.Equal(d, []bool{true, true}) {
			t.Errorf("%s: forward op DiffWRT = %v", c.what, d)
		}
	}
}
