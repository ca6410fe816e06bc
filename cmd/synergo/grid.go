package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/synergo/synergo/synergy/grid"
)

func init() {
	register(command{
		name:    "grid",
		summary: "run the hyper-parameter grid of appendix C over models × regularizers × seeds",
		run:     runGrid,
	})
}

const gridSynopsis = "grid --models tfn,lmf --regs none,mmd,kl [--variant stable|paper] --data SPEC --out DIR [--seeds ...] [--batches 32,64] [--lrs 1e-2,5e-3,1e-3,5e-4,1e-4] [--terms l2,d,kappa] [--epochs N]"

func runGrid(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		if sub, ok := gridSubcommands[args[0]]; ok { // plan, run, collect, slurm: gridcluster.go
			return sub(args[1:], stdout)
		}
	}
	o, rf, err := parseGridFlags("grid", gridSynopsis, args, stdout)
	if err != nil {
		return err
	}
	if err := rf.Complete(&o); err != nil {
		return err
	}
	return runGridWith(o, rf.Data, rf.NoProgress, stdout)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// parseGridFlags parses the flags shared by "synergo grid" and
// "synergo grid plan": the run flags plus the lists of models, regularizers,
// batch sizes and learning rates.
func parseGridFlags(name, synopsis string, args []string, stdout io.Writer) (grid.Options, *grid.RunFlags, error) {
	fs := newFlagSet(name)
	rf := &grid.RunFlags{}
	rf.Register(fs)
	modelList := fs.String("models", "", "comma-separated models ("+strings.Join(modelNames(), ", ")+")")
	regList := fs.String("regs", "none,mmd,kl", "comma-separated regularizers: "+regHelp())
	batches := fs.String("batches", joinInts(grid.PaperBatchSizes()), "comma-separated batch sizes")
	lrs := fs.String("lrs", joinFloats(grid.PaperLearningRates()), "comma-separated learning rates")
	if err := parseFlags(fs, synopsis, args, stdout); err != nil {
		return grid.Options{}, nil, err
	}
	if fs.NArg() > 0 {
		return grid.Options{}, nil, fmt.Errorf("unexpected arguments %q\nusage: synergo %s", fs.Args(), synopsis)
	}
	o := grid.Options{Models: splitList(*modelList), Regs: splitList(*regList)}
	if len(o.Models) == 0 || len(o.Regs) == 0 {
		return grid.Options{}, nil, fmt.Errorf("--models and --regs need at least one value\nusage: synergo %s", synopsis)
	}
	var err error
	if o.BatchSizes, err = parseInts(*batches, "--batches"); err != nil {
		return grid.Options{}, nil, err
	}
	if o.LearningRates, err = parseFloats(*lrs, "--lrs"); err != nil {
		return grid.Options{}, nil, err
	}
	return o, rf, nil
}
