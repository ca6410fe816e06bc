package synergy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestChoice(t *testing.T) {
	mmd := DefaultConfig(DivergenceMMD)
	mmd.UseL2 = false
	was := DefaultWassersteinConfig()
	for _, c := range []struct {
		choice      *Choice
		name, terms string
		kind        string // type of New's penalty
	}{
		{nil, "none", "", "<nil>"},
		{&Choice{}, "none", "", "<nil>"},
		{&Choice{Synergy: &mmd}, "mmd", "d,kappa", "*synergy.Regularizer"},
		{&Choice{Wasserstein: &was}, "was", "", "*synergy.Wasserstein"},
	} {
		if n, tm := c.choice.Name(), c.choice.Terms(); n != c.name || tm != c.terms {
			t.Errorf("%+v: name %q terms %q, want %q %q", c.choice, n, tm, c.name, c.terms)
		}
		seeded := c.choice.WithSeed(77)
		p, err := seeded.New([]int{3, 2}, 4, tensor.Float64)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := typeName(p); got != c.kind {
			t.Errorf("%s: New built %s, want %s", c.name, got, c.kind)
		}
		switch p := p.(type) {
		case *Regularizer:
			if p.Config().Seed != 77 || mmd.Seed == 77 {
				t.Errorf("mmd: WithSeed gave seed %d and changed the original to %d", p.Config().Seed, mmd.Seed)
			}
		case *Wasserstein:
			if p.Config().Seed != 77 || was.Seed == 77 {
				t.Errorf("was: WithSeed gave seed %d and changed the original to %d", p.Config().Seed, was.Seed)
			}
		}
	}
	both := &Choice{Synergy: &mmd, Wasserstein: &was}
	if err := both.Validate(); err == nil {
		t.Error("a choice of both penalties validated")
	}
	bad := was
	bad.SpectralBound = 0
	if _, err := (&Choice{Wasserstein: &bad}).New([]int{3, 2}, 4, tensor.Float64); err == nil || !strings.Contains(err.Error(), "SpectralBound") {
		t.Errorf("a zero spectral bound: err = %v, want one naming SpectralBound", err)
	}
	// The JSON form runs and plans keep round-trips.
	b, err := json.Marshal(&Choice{Wasserstein: &was})
	if err != nil {
		t.Fatal(err)
	}
	var back Choice
	if err := json.Unmarshal(b, &back); err != nil || back.Synergy != nil || back.Wasserstein == nil || *back.Wasserstein != was {
		t.Errorf("JSON %s read back as %+v (%v)", b, back, err)
	}
}

func typeName(p Penalty) string {
	switch p.(type) {
	case nil:
		return "<nil>"
	case *Regularizer:
		return "*synergy.Regularizer"
	case *Wasserstein:
		return "*synergy.Wasserstein"
	}
	return "?"
}

// The I_Was state round-trips: a restored baseline draws the permutations
// the original would have drawn next.
func TestWassersteinStateRoundTrip(t *testing.T) {
	cfg := DefaultWassersteinConfig()
	w, err := NewWasserstein(cfg, []int{2, 3}, 2, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	w.permRNG.Perm(10) // advance the generator
	w.steps = 4
	b, err := w.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	next := w.permRNG.Perm(10)
	v, _ := NewWasserstein(cfg, []int{2, 3}, 2, tensor.Float64)
	if err := v.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	if got := v.permRNG.Perm(10); v.Steps() != 4 || !slices.Equal(got, next) {
		t.Errorf("restored: steps %d, next permutation %v; want 4, %v", v.Steps(), got, next)
	}
	if err := v.UnmarshalState([]byte("{")); err == nil {
		t.Error("a truncated state gave no error")
	}
}

func TestWassersteinConfigValidate(t *testing.T) {
	for field, set := range map[string]func(*WassersteinConfig){
		"Gamma":           func(c *WassersteinConfig) { c.Gamma = -1 },
		"CriticHidden":    func(c *WassersteinConfig) { c.CriticHidden = 0 },
		"Beta":            func(c *WassersteinConfig) { c.Beta = 0 },
		"LearningRateMI":  func(c *WassersteinConfig) { c.LearningRateMI = -1e-3 },
		"WeightDecayMI":   func(c *WassersteinConfig) { c.WeightDecayMI = -1 },
		"GradClipValueMI": func(c *WassersteinConfig) { c.GradClipValueMI = -5 },
	} {
		c := DefaultWassersteinConfig()
		set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("bad %s: err = %v", field, err)
		}
	}
	if err := DefaultWassersteinConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
