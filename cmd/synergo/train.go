package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/train"
)

func init() {
	register(command{
		name:    "train",
		summary: "train one model with or without the synergy regularizer (grid of appendix C unless --batch and --lr are given)",
		run:     runTrain,
	})
}

const trainSynopsis = "train --model eflstm|tfn|lmf|mfn|magbert|misa|mmim --data synth:mosi[:SCALE]|synth:mosei[:SCALE]|synth:urfunny[:SCALE]|PATH " +
	"--reg none|mmd|kl|was [--terms l2,d,kappa] [--seeds 1111,1112] [--epochs N] [--batch B] [--lr R] [--freeze-bert none|all|N] --out DIR"

// runFlags are the run options shared by train and grid.
type runFlags struct {
	data, out, terms, seeds, loss string
	regSet                        string
	epochs, patience              int
	clipValue, clipNorm           float64
	weightDecay                   string
	freezeBert                    string
	noProgress                    bool
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "synth:mosi[:SCALE[:SEED[:KNOBS]]], synth:mosei[…], synth:urfunny[…] or a dataset file; "+
		"KNOBS: key=value pairs of the generator, e.g. synth:mosi:0.25:0:shared=0.8,tails=5 (datasets/SYNTHETIC.md)")
	fs.StringVar(&f.out, "out", "", "output folder (results.jsonl, runs/, checkpoints); rerunning continues there")
	fs.StringVar(&f.terms, "terms", "", "regularizer terms to switch on, a subset of l2,d,kappa (default all)")
	fs.StringVar(&f.seeds, "seeds", "1111,1112,1113,1114,1115", "comma-separated seeds")
	fs.StringVar(&f.loss, "loss", "l1", "regression loss: l1 (MMSA) or mse; binary tasks always use bce")
	fs.IntVar(&f.epochs, "epochs", 50, "maximum number of epochs")
	fs.IntVar(&f.patience, "patience", 8, "early stopping: epochs without validation improvement")
	fs.Float64Var(&f.clipValue, "clip", 5, "clip gradients by value (appendix C: 5); negative disables")
	fs.Float64Var(&f.clipNorm, "clip-norm", 0, "also clip the gradients' global L2 norm (0 = off)")
	fs.StringVar(&f.weightDecay, "weight-decay", "", "AdamW weight decay of the model (default: the model's MMSA setting)")
	fs.StringVar(&f.freezeBert, "freeze-bert", "", "BERT-based models (magbert, misa, mmim): freeze the text encoder: none, all (embeddings, layers, pooler) or N (layers 0…N−1); "+
		"default: the original's (MISA: 9 layers on MOSEI, all of BERT on UR-FUNNY; MAG-BERT, MMIM: none); results.jsonl does not key on it, so use another --out per setting")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bars on stderr")
	fs.StringVar(&f.regSet, "reg-set", "", "regularizer settings as key=value pairs by their JSON names, e.g. beta=0.01,gamma_kappa=0.5 (see synergy.Config)")
}

// regBase returns the regularizer configuration --reg-set describes on top
// of the defaults, or nil when the flag is empty.
func (f *runFlags) regBase() (*synergy.Config, error) {
	if f.regSet == "" {
		return nil, nil
	}
	c := synergy.DefaultConfig(synergy.DivergenceMMD)
	if err := c.Override(f.regSet); err != nil {
		return nil, fmt.Errorf("--reg-set: %w", err)
	}
	return &c, nil
}

// options turns the flags into the base run options and the seeds.
func (f *runFlags) options() (train.Options, []uint64, error) {
	if f.data == "" || f.out == "" {
		return train.Options{}, nil, errors.New("--data and --out are required")
	}
	seeds, err := parseUints(f.seeds, "--seeds")
	if err != nil {
		return train.Options{}, nil, err
	}
	loss, err := train.ParseLoss(f.loss)
	if err != nil {
		return train.Options{}, nil, err
	}
	o := train.Options{
		MaxEpochs: f.epochs, Patience: f.patience, ClipValue: f.clipValue, ClipNorm: f.clipNorm,
		Loss: loss, OnProgress: progressBars(os.Stderr, !f.noProgress), Logger: slog.Default(),
	}
	if loss == train.LossL1 {
		o.Loss = "" // the task decides: l1 for regression, bce for binary
	}
	if f.clipValue == 0 {
		o.ClipValue = -1
	}
	if f.weightDecay != "" {
		wd, err := strconv.ParseFloat(f.weightDecay, 64)
		if err != nil {
			return train.Options{}, nil, fmt.Errorf("--weight-decay %q: want a number", f.weightDecay)
		}
		o.WeightDecay = &wd
	}
	if f.freezeBert != "" {
		fb, err := models.ParseBertFreeze(f.freezeBert)
		if err != nil {
			return train.Options{}, nil, fmt.Errorf("--freeze-bert: %w", err)
		}
		o.FreezeBert = &fb
	}
	return o, seeds, nil
}

func runTrain(args []string, stdout io.Writer) error {
	fs := newFlagSet("train")
	var rf runFlags
	rf.register(fs)
	model := fs.String("model", "", "model: eflstm, tfn, lmf, mfn, or the BERT-based magbert, misa, mmim (synthetic data or data with token ids); "+
		"binary data (synth:urfunny) trains with BCE and reports accuracy")
	reg := fs.String("reg", "none", "regularizer: none, mmd, kl or was (the I_Was baseline)")
	batch := fs.Int("batch", 0, "batch size (default: the grid {32, 64})")
	lr := fs.Float64("lr", 0, "learning rate (default: the grid {1e-2, 5e-3, 1e-3, 5e-4, 1e-4})")
	if err := parseFlags(fs, trainSynopsis, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\nusage: synergo %s", fs.Args(), trainSynopsis)
	}
	if *model == "" {
		return fmt.Errorf("--model is required\nusage: synergo %s", trainSynopsis)
	}
	o := grid.Options{Models: []string{*model}, Regs: []string{*reg}}
	if *batch != 0 {
		o.BatchSizes = []int{*batch}
	}
	if *lr != 0 {
		o.LearningRates = []float64{*lr}
	}
	return runGridWith(o, &rf, stdout)
}

// runGridWith completes o from the flags, loads the data, runs the grid
// until done or interrupted (Ctrl-C, SIGTERM) and prints the table of the
// folder's results.
func runGridWith(o grid.Options, rf *runFlags, stdout io.Writer) error {
	base, seeds, err := rf.options()
	if err != nil {
		return err
	}
	o.Base, o.Seeds, o.Out = base, seeds, rf.out
	if o.RegBase, err = rf.regBase(); err != nil {
		return err
	}
	if rf.terms != "" {
		o.Terms = splitList(rf.terms)
	}
	for _, b := range o.BatchSizes {
		if b < 1 {
			return fmt.Errorf("batch size %d, want ≥ 1", b)
		}
	}
	for _, r := range o.LearningRates {
		if !(r > 0) {
			return fmt.Errorf("learning rate %v, want > 0", r)
		}
	}
	ds, err := datasets.Open(rf.data)
	if err != nil {
		return err
	}
	slog.Info("data", "source", ds.Source, "train", ds.Train.Len(), "valid", ds.Valid.Len(), "test", ds.Test.Len())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	recs, err := grid.Grid(ctx, ds, o)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; finished settings and a resume checkpoint are in %s, rerun the same command to continue", rf.out)
	}
	if err != nil {
		return err
	}
	slog.Info("done", "new_results", len(recs), "file", rf.out+"/"+grid.ResultsFile)
	all, err := grid.ReadRecords(rf.out + "/" + grid.ResultsFile)
	if err != nil {
		return err
	}
	return grid.WriteTables(stdout, grid.Tables(all, nil), "md")
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseUints(s, flagName string) ([]uint64, error) {
	var out []uint64
	for _, f := range splitList(s) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a non-negative integer", flagName, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no values", flagName)
	}
	return out, nil
}

func parseInts(s, flagName string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive integer", flagName, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no values", flagName)
	}
	return out, nil
}

func parseFloats(s, flagName string) ([]float64, error) {
	var out []float64
	for _, f := range splitList(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) {
			return nil, fmt.Errorf("%s: %q is not a positive number", flagName, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no values", flagName)
	}
	return out, nil
}
