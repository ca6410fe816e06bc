package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
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
	"--reg " + strings.Join(grid.RegNames(), "|") + " [--variant stable|paper] [--terms l2,d,kappa] [--seeds 1111,1112] [--epochs N] [--batch B] [--lr R] [--loss mse|l1] " +
	"[--model-set KEY=VALUE,...] [--bert DIR] [--freeze-bert none|all|N] --out DIR"

// modelNames lists the models of the registry, the BERT-based last.
func modelNames() []string { return append(models.Names(), models.BertNames()...) }

// regHelp describes the --reg and --regs values.
func regHelp() string {
	return strings.Join(grid.RegNames(), ", ") + " (was: the I_Was baseline)"
}

// runFlags are the run options shared by train and grid.
type runFlags struct {
	data, out, terms, seeds, loss   string
	regSet, modelSet, bert, variant string
	epochs, patience                int
	clipValue, clipNorm             float64
	weightDecay                     string
	freezeBert                      string
	noProgress, restart             bool
}

// restartHelp describes --restart-setting.
const restartHelp = "a setting whose saved files cannot be used (a resume checkpoint or run result that fails its checksum, " +
	"is of another format version or belongs to other options) starts from the beginning instead of stopping with an error naming the file"

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "synth:mosi[:SCALE[:SEED[:KNOBS]]], synth:mosei[…], synth:urfunny[…] or a dataset file; "+
		"KNOBS: key=value pairs of the generator, e.g. synth:mosi:0.25:0:shared=0.8,tails=5 (datasets/SYNTHETIC.md)")
	fs.StringVar(&f.out, "out", "", "output folder (results.jsonl, runs/, checkpoints); rerunning continues there, "+
		"and runs with any other option train beside the old ones (one process at a time per folder)")
	fs.StringVar(&f.terms, "terms", "", "regularizer terms to switch on, a subset of l2,d,kappa (default all)")
	fs.StringVar(&f.seeds, "seeds", "1111,1112,1113,1114,1115", "comma-separated seeds")
	fs.StringVar(&f.loss, "loss", "", "regression loss: mse (least squares, appendix D; the default) or l1 (MMSA's); binary tasks always use bce (cross entropy)")
	fs.IntVar(&f.epochs, "epochs", 50, "maximum number of epochs")
	fs.IntVar(&f.patience, "patience", 8, "early stopping: epochs without validation improvement")
	fs.Float64Var(&f.clipValue, "clip", 5, "clip gradients by value (appendix C: 5; MISA's original: 1); 0 or negative switches it off")
	fs.Float64Var(&f.clipNorm, "clip-norm", 0, "also clip the gradients' global L2 norm (0 = off)")
	fs.StringVar(&f.weightDecay, "weight-decay", "", "AdamW weight decay of the model (default: the model's MMSA setting)")
	fs.StringVar(&f.freezeBert, "freeze-bert", "", "BERT-based models (magbert, misa, mmim): freeze the text encoder: none, all (embeddings, layers, pooler) or N (layers 0…N−1); "+
		"default: the original's (MISA: 9 layers on MOSEI, all of BERT on UR-FUNNY; MAG-BERT, MMIM: none)")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bars on stderr")
	fs.BoolVar(&f.restart, "restart-setting", false, restartHelp)
	fs.StringVar(&f.variant, "variant", "stable", "synergy regularizer variant: stable (synergo's stabilized terms) or paper (§2.2, §4.1 and appendix D as written); see synergy.PaperConfig")
	fs.StringVar(&f.regSet, "reg-set", "", "regularizer settings as key=value pairs by their JSON names on top of the --variant preset, e.g. beta=0.01,gamma_kappa=0.5 (see synergy.Config)")
	fs.StringVar(&f.modelSet, "model-set", "", "model settings as key=value pairs by the JSON names of the model's configuration (model_config in results.jsonl; "+
		"nested with dots, lists with ';'), applied to every model of the run; an unknown key lists the known ones. The defaults are the originals; "+
		"the kept extensions: eflstm embed=true, lmf fused_dim=32, tfn apply_text_dropout=true, magbert|misa|mmim init=pytorch "+
		"(with --loss l1 these give synergo's runs before it followed the originals); e.g. bert.size=mini, nn1.drop=0.3")
	fs.StringVar(&f.bert, "bert", "", "BERT-based models (magbert, misa, mmim): a Hugging Face checkpoint folder (config.json, vocab.txt, "+
		"model.safetensors or pytorch_model.bin) whose weights initialize the text encoder; the data's token ids must come from its vocabulary. "+
		"Default: a from-scratch encoder (bert.size)")
}

// regBase returns the regularizer configuration of --variant with the
// settings of --reg-set on top.
func (f *runFlags) regBase() (*synergy.Config, error) {
	v, err := synergy.ParseVariant(f.variant)
	if err != nil {
		return nil, fmt.Errorf("--variant: %w", err)
	}
	c := synergy.VariantConfig(v, synergy.DivergenceMMD)
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
		Loss: loss, ModelSet: f.modelSet, OnProgress: progressBars(os.Stderr, !f.noProgress), Logger: slog.Default(), Restart: f.restart,
	}
	if f.bert != "" {
		if o.Bert, err = bertFolder(f.bert); err != nil {
			return train.Options{}, nil, err
		}
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

// bertFolder returns the absolute path of a Hugging Face checkpoint
// folder, or an error naming the missing file. The absolute path keys the
// run however the folder was spelled and lets plan runs start elsewhere.
func bertFolder(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--bert %s: %w", dir, err)
	}
	for _, name := range []string{"config.json", "vocab.txt"} {
		if _, err := os.Stat(filepath.Join(abs, name)); err != nil {
			return "", fmt.Errorf("--bert %s: want a Hugging Face checkpoint folder with config.json, vocab.txt and model.safetensors or pytorch_model.bin: %w", dir, err)
		}
	}
	return abs, nil
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
