package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/synergo/synergo/synergy/nn"
)

// EpochSchedule is implemented by a model whose training epoch is more
// than the trainer's default, one main stage that steps every batch of the
// epoch on L_task + Output.Aux (+ β·L_reg) with one AdamW over all
// trainable parameters at the run's learning rate. Such a model lists the
// stages of its epoch and keeps the state they carry between steps (MMIM:
// the original's two-stage epoch and its entropy memory).
type EpochSchedule interface {
	Model
	// Stages returns the stages of every epoch, in order; exactly one of
	// them is the main stage (Stage.Loss nil). The trainer asks once per
	// run.
	Stages() []Stage
	// MarshalTrainingState and UnmarshalTrainingState save and restore the
	// state the stages keep between steps (set by Begin and AfterStep),
	// with the trainer's resume checkpoint, so that a resumed run
	// continues bit-for-bit.
	MarshalTrainingState() ([]byte, error)
	UnmarshalTrainingState(b []byte) error
}

// Stage is one pass of a training epoch over the first ⌈Fraction·n⌉ of the
// epoch's n batches, in the epoch's batch order. Each step runs the
// forward and backward pass of a training graph Build made, clips the
// gradients of the stage's parameters together (the run's clip by value,
// then its global-norm clip) and lets every group's optimizer update its
// parameters.
type Stage struct {
	// Name labels the stage in progress reports and logs ("stage 0"); ""
	// for the main stage.
	Name string
	// Fraction is the share of the epoch's batches the stage steps
	// through; 0 means all of them.
	Fraction float64
	// Loss, if not nil, returns the stage's own objective in a training
	// graph built by Build (without task loss and regularizer); the stage
	// updates only the parameters of its groups that the objective
	// reaches. nil makes this the main stage: the objective is
	// L_task + Output.Aux (+ β·L_reg), and its mean losses are the epoch's
	// training diagnostics.
	Loss func(g *nn.Graph) (*G.Node, error)
	// Groups are the parameter groups the stage updates, each with an
	// AdamW of its own (the run's weight decay); the gradients of
	// parameters in no group are dropped. None: one group of all trainable
	// parameters at the run's learning rate. Group names are unique within
	// a stage.
	Groups []ParamGroup
	// Begin, if not nil, is called before the stage's first step of every
	// epoch (not when a resumed run continues inside the stage).
	Begin func()
	// AfterStep, if not nil, is called after every step of the stage with
	// the training graph the step ran.
	AfterStep func(g *nn.Graph) error
}

// ParamGroup is a set of parameters one optimizer updates at its own
// learning rate (PyTorch's parameter groups).
type ParamGroup struct {
	// Name identifies the group in the resume checkpoint ("bert").
	Name   string
	Params []*nn.Param
	// LearningRate is the group's AdamW learning rate; 0 means the run's.
	LearningRate float64
}
