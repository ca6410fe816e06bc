package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"

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

var trainSynopsis = "train --model " + strings.Join(modelNames(), "|") + " --data synth:mosi[:SCALE]|synth:mosei[:SCALE]|synth:urfunny[:SCALE]|PATH " +
	"--reg " + strings.Join(grid.RegNames(), "|") + " [--terms l2,d,kappa] [--seeds 1111,1112] [--epochs N] [--batch B] [--lr R] [--freeze-bert none|all|N] --out DIR"

// modelNames lists the models of the registry, the BERT-based last.
func modelNames() []string { return append(models.Names(), models.BertNames()...) }

// regHelp describes the --reg and --regs values.
func regHelp() string {
	return strings.Join(grid.RegNames(), ", ") + " (was: the I_Was baseline)"
}

// runFlags are the run options shared by train and grid.
type runFlags struct {
	data, out, terms, seeds, loss string
	regSet                        string
	epochs, patience              int
	clipValue, clipNorm           float64
	weightDecay                   string
	freezeBert                    string
	noProgress, restart           bool
}

// restartHelp describes --restart-setting.
const restartHelp = "a setting whose saved files cannot be used (a resume checkpoint or run result that fails its checksum, " +
	"is of another format version or belongs to other options) starts from the beginning instead of stopping with an error naming the file"

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "synth:mosi[:SCALE[:SEED]], synth:mosei[:SCALE[:SEED]], synth:urfunny[:SCALE[:SEED]] or a dataset file")
	fs.StringVar(&f.out, "out", "", "output folder (results.jsonl, runs/, checkpoints); rerunning continues there, "+
		"and runs with any other option train beside the old ones (one process at a time per folder)")
	fs.StringVar(&f.terms, "terms", "", "regularizer terms to switch on, a subset of l2,d,kappa (default all)")
	fs.StringVar(&f.seeds, "seeds", "1111,1112,1113,1114,1115", "comma-separated seeds")
	fs.StringVar(&f.loss, "loss", "l1", "regression loss: l1 (MMSA) or mse; binary tasks always use bce")
	fs.IntVar(&f.epochs, "epochs", 50, "maximum number of epochs")
	fs.IntVar(&f.patience, "patience", 8, "early stopping: epochs without validation improvement")
	fs.Float64Var(&f.clipValue, "clip", 5, "clip gradients by value (appendix C: 5); 0 or negative switches it off")
	fs.Float64Var(&f.clipNorm, "clip-norm", 0, "also clip the gradients' global L2 norm (0 = off)")
	fs.StringVar(&f.weightDecay, "weight-decay", "", "AdamW weight decay of the model (default: the model's MMSA setting)")
	fs.StringVar(&f.freezeBert, "freeze-bert", "", "BERT-based models (magbert, misa, mmim): freeze the text encoder: none, all (embeddings, layers, pooler) or N (layers 0…N−1); "+
		"default: the original's (MISA: 9 layers on MOSEI, all of BERT on UR-FUNNY; MAG-BERT, MMIM: none)")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bars on stderr")
	fs.BoolVar(&f.restart, "restart-setting", false, restartHelp)
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
	// 0 is never "the default" here: a flag left out has its default.
	if f.epochs < 1 {
		return train.Options{}, nil, fmt.Errorf("--epochs %d: want ≥ 1", f.epochs)
	}
	if f.patience < 1 {
		return train.Options{}, nil, fmt.Errorf("--patience %d: want ≥ 1", f.patience)
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
		Loss: loss, OnProgress: progressBars(os.Stderr, !f.noProgress), Logger: slog.Default(), Restart: f.restart,
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
	model := fs.String("model", "", "model: "+strings.Join(models.Names(), ", ")+", or the BERT-based "+strings.Join(models.BertNames(), ", ")+
		" (synthetic data or data with token ids); binary data (synth:urfunny) trains with BCE and reports accuracy")
	reg := fs.String("reg", "none", "regularizer: "+regHelp())
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
	given := map[string]bool{} // flags given on the command line, even as 0
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["batch"] {
		if *batch < 1 {
			return fmt.Errorf("--batch %d: want ≥ 1 (leave it out for the grid {32, 64})", *batch)
		}
		o.BatchSizes = []int{*batch}
	}
	if given["lr"] {
		if !(*lr > 0) || math.IsInf(*lr, 0) {
			return fmt.Errorf("--lr %v: want a positive number (leave it out for the grid {1e-2, …, 1e-4})", *lr)
		}
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
	if _, err := grid.Plan(rf.data, o); err != nil { // the options' errors before a long data load
		return err
	}
	ds, err := datasets.Open(rf.data)
	if err != nil {
		return err
	}
	slog.Info("data", "source", ds.Source, "train", ds.Train.Len(), "valid", ds.Valid.Len(), "test", ds.Test.Len())
	ctx, stop := withSignals()
	defer stop()
	recs, err := grid.Grid(ctx, ds, o)
	if err = interrupted(ctx, err, "finished settings and a resume checkpoint are in "+rf.out+"; rerun the same command to continue"); err != nil {
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
