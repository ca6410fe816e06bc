package grid

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/train"
)

// The command line's flags live here, not in cmd/synergo, so that the
// line a record's Command holds is read back by the same parser wherever
// it is read: "synergo train" and "synergo grid [plan]" register RunFlags,
// "synergo train" parses its words with TrainFlags, and ParseTrainCommand
// (what paper.ReproduceReference and the tests use) is TrainFlags on the
// words of a Record.Command.

// RestartHelp describes --restart-setting.
const RestartHelp = "a setting whose saved files cannot be used (a resume checkpoint or run result that fails its checksum, " +
	"is of another format version or belongs to other options) starts from the beginning instead of stopping with an error naming the file"

// ModelNames lists the models of the registry, the BERT-based last.
func ModelNames() []string { return append(models.Names(), models.BertNames()...) }

// RegHelp describes the --reg and --regs values.
func RegHelp() string {
	return strings.Join(RegNames(), ", ") + " (was: the I_Was baseline)"
}

// RunFlags are the flags of the run options shared by "synergo train",
// "synergo grid" and "synergo grid plan" (everything but what each
// selects: the models, regularizers, batch sizes and learning rates).
type RunFlags struct {
	Data, Out, Terms, Seeds, Loss   string
	RegSet, ModelSet, Bert, Variant string
	Epochs, Patience                int
	ClipValue, ClipNorm             float64
	WeightDecay                     string
	FreezeBert                      string
	NoProgress, Restart             bool
}

// Register defines the flags on fs with their defaults and help texts.
func (f *RunFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Data, "data", "", "synth:mosi[:SCALE[:SEED[:KNOBS]]], synth:mosei[…], synth:urfunny[…] or a dataset file; "+
		"KNOBS: key=value pairs of the generator, e.g. synth:mosi:0.25:0:shared=0.8,tails=5 (datasets/SYNTHETIC.md)")
	fs.StringVar(&f.Out, "out", "", "output folder (results.jsonl, runs/, checkpoints); rerunning continues there, "+
		"and runs with any other option train beside the old ones (one process at a time per folder)")
	fs.StringVar(&f.Terms, "terms", "", "regularizer terms to switch on, a subset of l2,d,kappa (default all)")
	fs.StringVar(&f.Seeds, "seeds", "1111,1112,1113,1114,1115", "comma-separated seeds")
	fs.StringVar(&f.Loss, "loss", "", "regression loss: mse (least squares, appendix D; the default) or l1 (MMSA's); binary tasks always use bce (cross entropy)")
	fs.IntVar(&f.Epochs, "epochs", 50, "maximum number of epochs")
	fs.IntVar(&f.Patience, "patience", 8, "early stopping: epochs without validation improvement")
	fs.Float64Var(&f.ClipValue, "clip", 5, "clip gradients by value (appendix C: 5; MISA's original: 1); 0 or negative switches it off")
	fs.Float64Var(&f.ClipNorm, "clip-norm", 0, "also clip the gradients' global L2 norm (0 = off)")
	fs.StringVar(&f.WeightDecay, "weight-decay", "", "AdamW weight decay of the model (default: the model's MMSA setting)")
	fs.StringVar(&f.FreezeBert, "freeze-bert", "", "BERT-based models (magbert, misa, mmim): freeze the text encoder: none, all (embeddings, layers, pooler) or N (layers 0…N−1); "+
		"default: the original's (MISA: 9 layers on MOSEI, all of BERT on UR-FUNNY; MAG-BERT, MMIM: none)")
	fs.BoolVar(&f.NoProgress, "no-progress", false, "no progress bars on stderr")
	fs.BoolVar(&f.Restart, "restart-setting", false, RestartHelp)
	fs.StringVar(&f.Variant, "variant", "stable", "synergy regularizer variant: stable (synergo's stabilized terms) or paper (§2.2, §4.1 and appendix D as written); see synergy.PaperConfig")
	fs.StringVar(&f.RegSet, "reg-set", "", "regularizer settings as key=value pairs by their JSON names on top of the --variant preset, e.g. beta=0.01,gamma_kappa=0.5 (see synergy.Config)")
	fs.StringVar(&f.ModelSet, "model-set", "", "model settings as key=value pairs by the JSON names of the model's configuration (model_config in results.jsonl; "+
		"nested with dots, lists with ';'), applied to every model of the run; an unknown key lists the known ones. The defaults are the originals; "+
		"the kept extensions: eflstm embed=true, lmf fused_dim=32, tfn apply_text_dropout=true, magbert|misa|mmim init=pytorch "+
		"(with --loss l1 these give synergo's runs before it followed the originals); e.g. bert.size=mini, nn1.drop=0.3")
	fs.StringVar(&f.Bert, "bert", "", "BERT-based models (magbert, misa, mmim): a Hugging Face checkpoint folder (config.json, vocab.txt, "+
		"model.safetensors or pytorch_model.bin) whose weights initialize the text encoder; the data's token ids must come from its vocabulary. "+
		"Default: a from-scratch encoder (bert.size)")
}

// Complete sets o's Base (every run option of the flags; the run-time
// OnProgress and Logger are left to the caller), Seeds, Out, RegBase and
// Terms from the flags, or returns an error naming the flag at fault.
func (f *RunFlags) Complete(o *Options) error {
	if f.Data == "" || f.Out == "" {
		return errors.New("--data and --out are required")
	}
	// 0 is never "the default" here: a flag left out has its default.
	if f.Epochs < 1 {
		return fmt.Errorf("--epochs %d: want ≥ 1", f.Epochs)
	}
	if f.Patience < 1 {
		return fmt.Errorf("--patience %d: want ≥ 1", f.Patience)
	}
	seeds, err := ParseUints(f.Seeds, "--seeds")
	if err != nil {
		return err
	}
	loss, err := train.ParseLoss(f.Loss)
	if err != nil {
		return err
	}
	base := train.Options{
		MaxEpochs: f.Epochs, Patience: f.Patience, ClipValue: f.ClipValue, ClipNorm: f.ClipNorm,
		Loss: loss, ModelSet: f.ModelSet, Restart: f.Restart,
	}
	if f.Bert != "" {
		if base.Bert, err = bertFolder(f.Bert); err != nil {
			return err
		}
	}
	if f.ClipValue == 0 {
		base.ClipValue = -1
	}
	if f.WeightDecay != "" {
		wd, err := strconv.ParseFloat(f.WeightDecay, 64)
		if err != nil {
			return fmt.Errorf("--weight-decay %q: want a number", f.WeightDecay)
		}
		base.WeightDecay = &wd
	}
	if f.FreezeBert != "" {
		fb, err := models.ParseBertFreeze(f.FreezeBert)
		if err != nil {
			return fmt.Errorf("--freeze-bert: %w", err)
		}
		base.FreezeBert = &fb
	}
	v, err := synergy.ParseVariant(f.Variant)
	if err != nil {
		return fmt.Errorf("--variant: %w", err)
	}
	c := synergy.VariantConfig(v, synergy.DivergenceMMD)
	if err := c.Override(f.RegSet); err != nil {
		return fmt.Errorf("--reg-set: %w", err)
	}
	o.Base, o.Seeds, o.Out, o.RegBase = base, seeds, f.Out, &c
	if f.Terms != "" {
		o.Terms = SplitList(f.Terms)
	}
	return nil
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

// TrainSynopsis is the usage line of "synergo train" (without "synergo").
func TrainSynopsis() string {
	return "train --model " + strings.Join(ModelNames(), "|") + " --data synth:mosi[:SCALE]|synth:mosei[:SCALE]|synth:urfunny[:SCALE]|PATH " +
		"--reg " + strings.Join(RegNames(), "|") + " [--variant stable|paper] [--terms l2,d,kappa] [--seeds 1111,1112] [--epochs N] [--batch B] [--lr R] [--loss mse|l1] " +
		"[--model-set KEY=VALUE,...] [--bert DIR] [--freeze-bert none|all|N] --out DIR"
}

// TrainCommand is a parsed "synergo train" command line: one model and
// one regularizer over its seeds, with one batch size and learning rate
// when --batch and --lr are given (else appendix C's grid).
type TrainCommand struct {
	// Data is the --data spec (datasets.Open).
	Data string
	// Options is the grid the command trains (Grid), its Out the --out
	// folder; Base.OnProgress and Base.Logger are left nil.
	Options Options
	// NoProgress is --no-progress.
	NoProgress bool
}

// TrainFlags returns a flag set with the flags of "synergo train" (it
// prints nothing: the caller reports errors and -h) and the function that,
// once the set has parsed the arguments, returns the command they give or
// an error naming the flag at fault.
func TrainFlags() (*flag.FlagSet, func() (*TrainCommand, error)) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var rf RunFlags
	rf.Register(fs)
	model := fs.String("model", "", "model: "+strings.Join(models.Names(), ", ")+", or the BERT-based "+strings.Join(models.BertNames(), ", ")+
		" (synthetic data or data with token ids); binary data (synth:urfunny) trains with BCE and reports accuracy")
	reg := fs.String("reg", "none", "regularizer: "+RegHelp())
	batch := fs.Int("batch", 0, "batch size (default: the grid {32, 64})")
	lr := fs.Float64("lr", 0, "learning rate (default: the grid {1e-2, 5e-3, 1e-3, 5e-4, 1e-4})")
	return fs, func() (*TrainCommand, error) {
		if fs.NArg() > 0 {
			return nil, fmt.Errorf("unexpected arguments %q\nusage: synergo %s", fs.Args(), TrainSynopsis())
		}
		if *model == "" {
			return nil, fmt.Errorf("--model is required\nusage: synergo %s", TrainSynopsis())
		}
		o := Options{Models: []string{*model}, Regs: []string{*reg}}
		given := map[string]bool{} // flags given on the command line, even as 0
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if given["batch"] {
			if *batch < 1 {
				return nil, fmt.Errorf("--batch %d: want ≥ 1 (leave it out for the grid {32, 64})", *batch)
			}
			o.BatchSizes = []int{*batch}
		}
		if given["lr"] {
			if !(*lr > 0) || math.IsInf(*lr, 0) {
				return nil, fmt.Errorf("--lr %v: want a positive number (leave it out for the grid {1e-2, …, 1e-4})", *lr)
			}
			o.LearningRates = []float64{*lr}
		}
		if err := rf.Complete(&o); err != nil {
			return nil, err
		}
		return &TrainCommand{Data: rf.Data, Options: o, NoProgress: rf.NoProgress}, nil
	}
}

// ParseTrainCommand parses the words of a "synergo train …" command line
// (SplitCommand of a Record.Command, "synergo" and "train" included) with
// the flags of the command line (TrainFlags).
func ParseTrainCommand(words []string) (*TrainCommand, error) {
	if len(words) < 2 || words[0] != "synergo" || words[1] != "train" {
		return nil, fmt.Errorf("grid: command %q does not start with synergo train", strings.Join(words, " "))
	}
	fs, finish := TrainFlags()
	if err := fs.Parse(words[2:]); err != nil {
		return nil, fmt.Errorf("grid: command %q: %w", strings.Join(words, " "), err)
	}
	c, err := finish()
	if err != nil {
		return nil, fmt.Errorf("grid: command %q: %w", strings.Join(words, " "), err)
	}
	return c, nil
}

// SplitCommand splits a command line into words: plain words separated by
// spaces, single-quoted words and backslash-escaped characters, the
// quoting PlannedRun.Command writes (shellQuote). An unterminated quote or
// escape is an error.
func SplitCommand(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted, escaped := false, false, false
	for _, c := range line {
		switch {
		case escaped:
			cur.WriteRune(c)
			escaped = false
		case !quoted && c == '\\':
			escaped, inWord = true, true
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quoted || escaped {
		return nil, fmt.Errorf("grid: unterminated quote or escape in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// SplitList splits a comma-separated list, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ParseUints parses a comma-separated list of non-negative integers given
// as flagName; an empty list is an error.
func ParseUints(s, flagName string) ([]uint64, error) {
	var out []uint64
	for _, f := range SplitList(s) {
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
