package datasets

import (
	"fmt"
	"slices"
	"testing"
)

// smallSplit returns a split of n samples whose features encode their
// position: text (T=3, D=2) value 100·i + 10·t + d on valid steps, audio
// (T=2, D=1), no vision, labels i/10, ids "s<i>", token ids [101, i, 102].
func smallSplit(n int) *Split {
	s := &Split{Name: "train"}
	text := &Sequences{N: n, T: 3, D: 2, Data: make([]float32, n*6), Lengths: make([]int, n)}
	audio := &Sequences{N: n, T: 2, D: 1, Data: make([]float32, n*2), Lengths: make([]int, n)}
	for i := 0; i < n; i++ {
		text.Lengths[i] = 1 + i%3
		for t := 0; t < text.Lengths[i]; t++ {
			for d := 0; d < 2; d++ {
				text.Data[(i*3+t)*2+d] = float32(100*i + 10*t + d)
			}
		}
		audio.Lengths[i] = 2
		audio.Data[i*2], audio.Data[i*2+1] = float32(-i), float32(i)
		s.Labels = append(s.Labels, float32(i)/10)
		s.IDs = append(s.IDs, fmt.Sprintf("s%d", i))
		s.RawText = append(s.RawText, fmt.Sprintf("word%d", i))
		s.TokenIDs = append(s.TokenIDs, []int32{101, int32(i), 102})
	}
	s.Features[Text] = text
	s.Features[Audio] = audio
	return s
}

func TestBatchesSizesAndContent(t *testing.T) {
	s := smallSplit(10)
	for _, tc := range []struct {
		size  int
		sizes []int
	}{
		{1, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{3, []int{3, 3, 3, 1}},
		{5, []int{5, 5}},
		{64, []int{10}},
	} {
		for _, seed := range []int64{-1, 0, 7} {
			bs, err := s.Batches(tc.size, seed)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			var seen []int
			for _, b := range bs {
				got = append(got, b.Size())
				seen = append(seen, b.Indices...)
				for k, i := range b.Indices {
					if b.Labels[k] != s.Labels[i] || b.TokenIDs[k][1] != int32(i) {
						t.Fatalf("size %d seed %d: sample %d carries label/token of another sample", tc.size, seed, i)
					}
					if b.Features[Text].Lengths[k] != s.Features[Text].Lengths[i] {
						t.Fatalf("length of sample %d not copied", i)
					}
					if !slices.Equal(b.Features[Text].Row(k), s.Features[Text].Row(i)) || !slices.Equal(b.Features[Audio].Row(k), s.Features[Audio].Row(i)) {
						t.Fatalf("features of sample %d not copied", i)
					}
				}
				if b.Features[Vision] != nil {
					t.Fatal("absent modality became present")
				}
			}
			if !slices.Equal(got, tc.sizes) {
				t.Errorf("size %d seed %d: batch sizes %v, want %v", tc.size, seed, got, tc.sizes)
			}
			if seed < 0 && !slices.Equal(seen, identity(10)) {
				t.Errorf("seed %d: order %v, want the original order", seed, seen)
			}
			slices.Sort(seen)
			if !slices.Equal(seen, identity(10)) {
				t.Errorf("size %d seed %d: samples visited %v, want each once", tc.size, seed, seen)
			}
		}
	}
}

func TestBatchesDeterministicAndShuffled(t *testing.T) {
	s := smallSplit(50)
	order := func(seed int64) []int {
		bs, err := s.Batches(7, seed)
		if err != nil {
			t.Fatal(err)
		}
		var o []int
		for _, b := range bs {
			o = append(o, b.Indices...)
		}
		return o
	}
	if !slices.Equal(order(3), order(3)) {
		t.Error("same seed gave different orders")
	}
	if slices.Equal(order(3), order(4)) {
		t.Error("seeds 3 and 4 gave the same order")
	}
	if slices.Equal(order(3), identity(50)) {
		t.Error("seed 3 did not shuffle")
	}
}

func TestBatchesCopy(t *testing.T) {
	s := smallSplit(4)
	for i := range s.TokenIDs {
		s.TokenSteps = append(s.TokenSteps, []int32{-1, int32(i % 2), -1})
	}
	bs, err := s.Batches(4, 7)
	if err != nil {
		t.Fatal(err)
	}
	b := bs[0]
	for k, i := range b.Indices {
		if !slices.Equal(b.TokenSteps[k], s.TokenSteps[i]) || !slices.Equal(b.TokenIDs[k], s.TokenIDs[i]) {
			t.Errorf("batch row %d (sample %d): token ids %v steps %v, split %v %v", k, i, b.TokenIDs[k], b.TokenSteps[k], s.TokenIDs[i], s.TokenSteps[i])
		}
	}
	b.Features[Text].Data[0] = -999
	b.Labels[0] = -999
	b.TokenIDs[0][0] = -999
	b.TokenSteps[0][0] = -999
	for i := range s.TokenIDs {
		if s.TokenIDs[i][0] == -999 || s.TokenSteps[i][0] == -999 {
			t.Error("a batch shares token rows with its split")
		}
	}
	if slices.Contains(s.Features[Text].Data, -999) || slices.Contains(s.Labels, -999) {
		t.Error("a batch shares memory with its split")
	}
}

func TestBatchesErrors(t *testing.T) {
	s := smallSplit(4)
	for _, size := range []int{0, -3} {
		if _, err := s.Batches(size, 1); err == nil {
			t.Errorf("size %d: no error", size)
		}
	}
	if _, err := (&Split{Name: "test"}).Batches(8, 1); err == nil {
		t.Error("empty split: no error")
	}
}

func TestSubset(t *testing.T) {
	s := smallSplit(6)
	sub := s.Subset([]int{4, 1, 4})
	if sub.Len() != 3 || sub.Features[Text].N != 3 || sub.Features[Audio].N != 3 {
		t.Fatalf("subset has %d labels, %d/%d sequences; want 3", sub.Len(), sub.Features[Text].N, sub.Features[Audio].N)
	}
	if !slices.Equal(sub.IDs, []string{"s4", "s1", "s4"}) || !slices.Equal(sub.RawText, []string{"word4", "word1", "word4"}) {
		t.Errorf("ids %v raw %v", sub.IDs, sub.RawText)
	}
	if sub.Labels[1] != s.Labels[1] || sub.TokenIDs[0][1] != 4 || !slices.Equal(sub.Features[Text].Row(1), s.Features[Text].Row(1)) {
		t.Error("subset content differs from the split")
	}
	sub.IDs[0] = "changed"
	if s.IDs[4] == "changed" {
		t.Error("subset shares ids with the split")
	}
	defer func() {
		if recover() == nil {
			t.Error("out-of-range index did not panic")
		}
	}()
	s.Subset([]int{6})
}

// BatchIndices lists every sample once, in the batches and order Batches
// makes, and Gather copies what it is given: changing the index list or
// the batch afterwards changes neither the other nor the split.
func TestBatchIndicesGather(t *testing.T) {
	s := smallSplit(50)
	order, err := s.BatchIndices(7, 3)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := s.Batches(7, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != len(bs) {
		t.Fatalf("%d index lists, %d batches", len(order), len(bs))
	}
	var all []int
	for k, idx := range order {
		if !slices.Equal(idx, bs[k].Indices) {
			t.Fatalf("batch %d: indices %v, Batches has %v", k, idx, bs[k].Indices)
		}
		all = append(all, idx...)
	}
	slices.Sort(all)
	if !slices.Equal(all, identity(50)) {
		t.Fatal("the batches do not hold every sample exactly once")
	}
	idx := order[1]
	first := idx[0]
	b := s.Gather(idx)
	idx[0] = (first + 1) % 50
	if b.Indices[0] != first || b.Features[Text].Data[0] != 100*float32(first) {
		t.Fatalf("Gather's batch changed with its index list: index %d, first value %v", b.Indices[0], b.Features[Text].Data[0])
	}
	b.Labels[0] = -1
	if s.Labels[first] == -1 {
		t.Fatal("a gathered batch shares its labels with the split")
	}
}

// TestGatherIntoMatchesGather gathers a sequence of batches of changing
// sizes into one reused batch and compares each with Gather's fresh batch:
// the same features, lengths, labels, token ids and indices, nothing left
// over from a larger earlier batch; modifying the reused batch (as modality
// dropout does) leaves the split unchanged; once its storage has the room a
// gather allocates nothing.
func TestGatherIntoMatchesGather(t *testing.T) {
	s := smallSplit(30)
	s.TokenSteps = make([][]int32, 30)
	for i := range s.TokenSteps {
		s.TokenSteps[i] = []int32{-1, int32(i % 3), -1}
	}
	var b *Batch
	for k, idx := range [][]int{{3, 1, 4, 1, 5}, {9, 2}, {6, 5, 3, 5, 8, 9, 7}, {0}, {29, 28, 27, 26}} {
		b = s.GatherInto(b, idx)
		want := s.Gather(idx)
		if !slices.Equal(b.Indices, want.Indices) || !slices.Equal(b.Labels, want.Labels) || b.Size() != len(idx) {
			t.Fatalf("batch %d: indices %v labels %v, Gather %v %v", k, b.Indices, b.Labels, want.Indices, want.Labels)
		}
		for m := range want.Features {
			g, w := b.Features[m], want.Features[m]
			if (g == nil) != (w == nil) {
				t.Fatalf("batch %d, modality %d: nil %v, Gather nil %v", k, m, g == nil, w == nil)
			}
			if w == nil {
				continue
			}
			if g.N != w.N || g.T != w.T || g.D != w.D || !slices.Equal(g.Data, w.Data) || !slices.Equal(g.Lengths, w.Lengths) {
				t.Fatalf("batch %d, modality %d: %+v, Gather %+v", k, m, g, w)
			}
		}
		for _, rows := range [][2][][]int32{{b.TokenIDs, want.TokenIDs}, {b.TokenSteps, want.TokenSteps}} {
			if len(rows[0]) != len(rows[1]) {
				t.Fatalf("batch %d: %d token rows, Gather %d", k, len(rows[0]), len(rows[1]))
			}
			for r := range rows[1] {
				if !slices.Equal(rows[0][r], rows[1][r]) {
					t.Fatalf("batch %d, token row %d: %v, Gather %v", k, r, rows[0][r], rows[1][r])
				}
			}
		}
		for i := range b.Features[Text].Data {
			b.Features[Text].Data[i] = -7
		}
		b.TokenIDs[0][0] = -7
	}
	for i, v := range s.Features[Text].Data {
		if v == -7 {
			t.Fatalf("text value %d of the split was overwritten through a reused batch", i)
		}
	}
	for i, row := range s.TokenIDs {
		if row[0] != 101 {
			t.Fatalf("token row %d of the split was overwritten through a reused batch", i)
		}
	}
	big := []int{1, 2, 3, 4, 5, 6, 7, 8}
	b = s.GatherInto(b, big)
	if allocs := testing.AllocsPerRun(10, func() { b = s.GatherInto(b, big[:5]) }); allocs != 0 {
		t.Errorf("GatherInto into a batch with room: %v allocations, want 0", allocs)
	}
}
