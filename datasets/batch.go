package datasets

import (
	"fmt"
	"math/rand/v2"
)

// Batches cuts the split into minibatches of size samples each; the last
// batch holds the remaining Len() mod size samples when that is not zero.
//
// The order is deterministic. For seed ≥ 0 the samples are visited in the
// order of a permutation drawn by rand.Perm from a math/rand/v2 PCG source
// seeded with (uint64(seed), uint64(seed)), so one seed per epoch gives a
// reproducible shuffle. For seed < 0 the split's own order is kept, which is
// what evaluation wants.
//
// Every batch owns its data: features (B×T×D per modality, with lengths),
// labels, token ids and token steps are copied, so a caller may modify a batch (for
// example with DropModalitiesRandom) without touching the split.
// Batches returns an error when size < 1 or the split is empty.
func (s *Split) Batches(size int, seed int64) ([]*Batch, error) {
	order, err := s.BatchIndices(size, seed)
	if err != nil {
		return nil, err
	}
	batches := make([]*Batch, len(order))
	for i, idx := range order {
		batches[i] = s.Gather(idx)
	}
	return batches, nil
}

// BatchIndices returns the sample indices of the batches Batches(size,
// seed) makes, in order, without copying any data: a training loop that
// gathers one batch at a time (Gather) holds one batch's copy instead of
// the whole split's. Errors as Batches.
func (s *Split) BatchIndices(size int, seed int64) ([][]int, error) {
	if size < 1 {
		return nil, fmt.Errorf("datasets: split %s: batch size %d, want at least 1", s.Name, size)
	}
	n := s.Len()
	if n == 0 {
		return nil, fmt.Errorf("datasets: split %s: no samples to batch", s.Name)
	}
	order := identity(n) // seed < 0: the split's own order
	if seed >= 0 {
		order = rand.New(rand.NewPCG(uint64(seed), uint64(seed))).Perm(n)
	}
	batches := make([][]int, 0, (n+size-1)/size)
	for start := 0; start < n; start += size {
		batches = append(batches, order[start:min(start+size, n):min(start+size, n)])
	}
	return batches, nil
}

// Gather returns the batch of the samples at positions idx, in that
// order, owning a copy of their features, lengths, labels, token ids and
// token steps (as Batches' batches do). An index outside [0, Len()) is a programmer
// error and panics.
func (s *Split) Gather(idx []int) *Batch { return s.GatherInto(nil, idx) }

// GatherInto is Gather writing into the storage of b, a batch an earlier
// Gather or GatherInto returned (nil: a new batch), wherever it has the
// room, and returns the batch (b, or a new one for nil). A loop that
// gathers every step's batch into the same one allocates its storage once
// instead of copying each batch into fresh zeroed memory (LMF at MOSI
// shapes: 4 MiB of sequences per step). Everything b held is overwritten —
// every sample's whole padded sequences are copied — so whatever used b
// must be done with it. Panics as Gather.
func (s *Split) GatherInto(b *Batch, idx []int) *Batch {
	n := s.Len()
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("datasets: Gather: index %d out of range [0, %d)", i, n))
		}
	}
	if b == nil {
		b = &Batch{}
	}
	b.Indices = append(b.Indices[:0], idx...)
	b.Labels = gatherLabels(b.Labels, s.Labels, idx)
	b.TokenIDs = gatherTokenRows(b.TokenIDs, s.TokenIDs, idx)
	b.TokenSteps = gatherTokenRows(b.TokenSteps, s.TokenSteps, idx)
	for m, f := range s.Features {
		if f == nil {
			b.Features[m] = nil
			continue
		}
		b.Features[m] = gatherSequences(b.Features[m], f, idx)
	}
	return b
}

// Subset returns a new split holding the samples at positions idx, in that
// order (repetitions allowed). Everything the split carries (ids, features,
// lengths, labels, raw text, token ids and steps) is copied. An index outside
// [0, Len()) is a programmer error and panics.
func (s *Split) Subset(idx []int) *Split {
	n := s.Len()
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("datasets: Subset: index %d out of range [0, %d)", i, n))
		}
	}
	out := &Split{
		Name:       s.Name,
		Labels:     gatherLabels(nil, s.Labels, idx),
		TokenIDs:   gatherTokenRows(nil, s.TokenIDs, idx),
		TokenSteps: gatherTokenRows(nil, s.TokenSteps, idx),
	}
	if s.IDs != nil {
		out.IDs = make([]string, len(idx))
		for k, i := range idx {
			out.IDs[k] = s.IDs[i]
		}
	}
	if s.RawText != nil {
		out.RawText = make([]string, len(idx))
		for k, i := range idx {
			out.RawText[k] = s.RawText[i]
		}
	}
	for m, f := range s.Features {
		if f != nil {
			out.Features[m] = gatherSequences(nil, f, idx)
		}
	}
	return out
}

// gatherSequences copies sequences idx of s into a len(idx)×T×D set in
// dst's storage where it has the room (nil dst: a new set), and returns it.
func gatherSequences(dst, s *Sequences, idx []int) *Sequences {
	if dst == nil {
		dst = &Sequences{}
	}
	step := s.T * s.D
	dst.N, dst.T, dst.D = len(idx), s.T, s.D
	dst.Data = resize(dst.Data, len(idx)*step)
	dst.Lengths = resize(dst.Lengths, len(idx))
	for k, i := range idx {
		copy(dst.Data[k*step:(k+1)*step], s.Data[i*step:(i+1)*step])
		dst.Lengths[k] = s.Lengths[i]
	}
	return dst
}

// resize returns s with length n: s resliced when its capacity allows (the
// entries keep their old values, which the caller overwrites), else a new
// slice.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// cloneSequences returns a deep copy of s (nil for nil).
func cloneSequences(s *Sequences) *Sequences {
	if s == nil {
		return nil
	}
	return &Sequences{
		N:       s.N,
		T:       s.T,
		D:       s.D,
		Data:    append([]float32(nil), s.Data...),
		Lengths: append([]int(nil), s.Lengths...),
	}
}

// gatherLabels returns labels[idx] in dst's storage where it has the room.
func gatherLabels(dst, labels []float32, idx []int) []float32 {
	dst = resize(dst, len(idx))
	for k, i := range idx {
		dst[k] = labels[i]
	}
	return dst
}

// gatherTokenRows copies rows idx of per-token rows (token ids or token
// steps), into dst's rows where they have the room; nil stays nil.
func gatherTokenRows(dst, ids [][]int32, idx []int) [][]int32 {
	if ids == nil {
		return nil
	}
	if cap(dst) >= len(idx) {
		dst = dst[:len(idx)] // rows past the old length keep their storage too
	} else {
		dst = append(dst[:cap(dst)], make([][]int32, len(idx)-cap(dst))...)
	}
	for k, i := range idx {
		dst[k] = append(dst[k][:0], ids[i]...)
	}
	return dst
}
