package datasets

import (
	"fmt"
)

// DropModalities returns a deep copy of s in which the features of every
// modality in drop are set to zero; lengths, labels, ids, raw text and token
// ids are unchanged. "Dropping" a modality therefore means zeroing its
// features at test time, the protocol of Colombo et al. (2021) that the
// paper follows for its modality-corruption experiment (§5.5, Table 4: drop
// T, T+V or T+A; see CorruptionSets). Token ids are kept even when Text is
// dropped; models that read token ids instead of text features must mask
// them themselves. A modality outside Text, Audio, Vision is a programmer
// error and panics.
func DropModalities(s *Split, drop []Modality) *Split {
	out := &Split{
		Name:     s.Name,
		IDs:      append([]string(nil), s.IDs...),
		Labels:   append([]float32(nil), s.Labels...),
		RawText:  append([]string(nil), s.RawText...),
		TokenIDs: gatherTokenRows(nil, s.TokenIDs, identity(s.Len())),
		// The steps say where a token's frame is, not what it holds.
		TokenSteps: gatherTokenRows(nil, s.TokenSteps, identity(s.Len())),
	}
	if s.IDs == nil {
		out.IDs = nil
	}
	if s.RawText == nil {
		out.RawText = nil
	}
	for m, f := range s.Features {
		out.Features[m] = cloneSequences(f)
	}
	for _, m := range drop {
		if m < 0 || int(m) >= NumModalities {
			panic(fmt.Sprintf("datasets: DropModalities: invalid modality %d", int(m)))
		}
		if f := out.Features[m]; f != nil {
			clear(f.Data)
		}
	}
	return out
}

// CorruptionSets returns the modality-corruption settings of Table 4 of the
// paper (§5.5), named by the modalities they drop: "T" drops text, "T+V"
// text and vision, "T+A" text and audio. The map is new on every call.
func CorruptionSets() map[string][]Modality {
	return map[string][]Modality{
		"T":   {Text},
		"T+V": {Text, Vision},
		"T+A": {Text, Audio},
	}
}

func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
