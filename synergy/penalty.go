package synergy

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// Penalty is a training-time regularizer of a fusion model's
// representations with networks and state of its own: the synergy
// regularizer (*Regularizer) or the I_Was baseline (*Wasserstein). A
// trainer uses one through this interface:
//
//	a, err := p.Attach(g, out.Unimodal, out.Fused)   // once per training graph
//	cost, err := a.Objective(task)                   // L_task + β·L_reg
//	// differentiate cost w.r.t. the model's and p.Params()'s parameters
//	a.Feed()                                         // before each run
//	a.Step()                                         // after each run
//
// and checkpoints p.Params() (values), p.Optimizer().State() and
// p.MarshalState() (everything else).
type Penalty interface {
	// Attach adds the penalty to the training graph g on top of the
	// unimodal representations (each B×d_i) and the fused one (B×d).
	Attach(g *nn.Graph, unimodal []*G.Node, fused *G.Node) (*Attachment, error)
	// Params returns the penalty's trainable parameters.
	Params() *nn.ParamSet
	// Optimizer returns the optimizer of those parameters.
	Optimizer() *nn.AdamW
	// MarshalState serializes the state that is neither parameters nor
	// optimizer state; UnmarshalState restores it.
	MarshalState() ([]byte, error)
	UnmarshalState(b []byte) error

	// hooks are the penalty's part of Attachment.Feed and Attachment.Step.
	hooks
}

// hooks is what a penalty does around each run of a graph it is attached
// to.
type hooks interface {
	// feed sets the penalty's inputs of the graph before a run.
	feed(a *Attachment) error
	// step updates the penalty's parameters and state after a run.
	step(a *Attachment) error
}

// Choice selects the penalty of a training run and holds its
// configuration: the synergy regularizer (Synergy) or the I_Was baseline
// (Wasserstein). A nil *Choice, or one with neither set, trains without.
// It is the form runs, plans and records keep.
type Choice struct {
	Synergy     *Config            `json:"synergy,omitempty"`
	Wasserstein *WassersteinConfig `json:"wasserstein,omitempty"`
}

// None reports whether c selects no penalty.
func (c *Choice) None() bool { return c == nil || (c.Synergy == nil && c.Wasserstein == nil) }

// Name returns "none", the divergence of the synergy regularizer ("mmd",
// "kl"; "none" when L_d is off) or "was".
func (c *Choice) Name() string {
	switch {
	case c.None():
		return "none"
	case c.Wasserstein != nil:
		return "was"
	}
	return c.Synergy.Divergence.String()
}

// Variant returns the synergy regularizer's variant ("paper" or
// "stable"), or "" for none and I_Was.
func (c *Choice) Variant() string {
	if c.None() || c.Synergy == nil {
		return ""
	}
	return c.Synergy.Variant.String()
}

// Terms returns the switched-on terms of the synergy regularizer as
// "l2,d,kappa" (a subset, in that order), or "" for none and I_Was.
func (c *Choice) Terms() string {
	if c.None() || c.Synergy == nil {
		return ""
	}
	cfg := c.Synergy
	var t []string
	if cfg.UseL2 {
		t = append(t, "l2")
	}
	if cfg.useD() {
		t = append(t, "d")
	}
	if cfg.UseKappa && (cfg.KurtosisFused || cfg.KurtosisUnimodal) {
		t = append(t, "kappa")
	}
	return strings.Join(t, ",")
}

// Validate returns an error if both penalties are set or the chosen one's
// configuration is invalid.
func (c *Choice) Validate() error {
	switch {
	case c.None():
		return nil
	case c.Synergy != nil && c.Wasserstein != nil:
		return fmt.Errorf("synergy: a choice of both the synergy regularizer and I_Was")
	case c.Wasserstein != nil:
		return c.Wasserstein.Validate()
	}
	return c.Synergy.Validate()
}

// WithSeed returns a copy of c whose chosen configuration has the given
// Seed (nil for none).
func (c *Choice) WithSeed(seed uint64) *Choice {
	if c.None() {
		return nil
	}
	out := &Choice{}
	if c.Synergy != nil {
		cfg := *c.Synergy
		cfg.Seed = seed
		out.Synergy = &cfg
	}
	if c.Wasserstein != nil {
		cfg := *c.Wasserstein
		cfg.Seed = seed
		out.Wasserstein = &cfg
	}
	return out
}

// New builds the chosen penalty for the given representation sizes with
// parameters of dtype dt (New or NewWasserstein); nil for none.
func (c *Choice) New(unimodalDims []int, fusedDim int, dt tensor.Dtype) (Penalty, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch {
	case c.None():
		return nil, nil
	case c.Wasserstein != nil:
		w, err := NewWasserstein(*c.Wasserstein, unimodalDims, fusedDim, dt)
		if err != nil {
			return nil, err
		}
		return w, nil
	}
	r, err := New(*c.Synergy, unimodalDims, fusedDim, dt)
	if err != nil {
		return nil, err
	}
	return r, nil
}
