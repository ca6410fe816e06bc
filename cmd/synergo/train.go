package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/grid"
)

func init() {
	register(command{
		name:    "train",
		summary: "train one model with or without the synergy regularizer (grid of appendix C unless --batch and --lr are given)",
		run:     runTrain,
	})
}

// trainSynopsis is the usage line of train.
var trainSynopsis = grid.TrainSynopsis()

// modelNames lists the models of the registry, the BERT-based last.
func modelNames() []string { return grid.ModelNames() }

// regHelp describes the --reg and --regs values.
func regHelp() string { return grid.RegHelp() }

// restartHelp describes --restart-setting.
const restartHelp = grid.RestartHelp

// runTrain parses the flags with grid.TrainFlags, the parser every
// "synergo train" line is read with (grid.ParseTrainCommand), and trains.
func runTrain(args []string, stdout io.Writer) error {
	fs, finish := grid.TrainFlags()
	if err := parseFlags(fs, trainSynopsis, args, stdout); err != nil {
		return err
	}
	c, err := finish()
	if err != nil {
		return err
	}
	return runGridWith(c.Options, c.Data, c.NoProgress, stdout)
}

// runGridWith adds the progress bars (unless noProgress) and the logger to
// o (complete from the flags: grid.RunFlags.Complete), loads data, runs the
// grid until done or interrupted (Ctrl-C, SIGTERM) and prints the table of
// the folder's results.
func runGridWith(o grid.Options, data string, noProgress bool, stdout io.Writer) error {
	o.Base.OnProgress, o.Base.Logger = progressBars(os.Stderr, !noProgress), slog.Default()
	if _, err := grid.Plan(data, o); err != nil { // the options' errors before a long data load
		return err
	}
	ds, err := datasets.Open(data)
	if err != nil {
		return err
	}
	slog.Info("data", "source", ds.Source, "train", ds.Train.Len(), "valid", ds.Valid.Len(), "test", ds.Test.Len())
	ctx, stop := withSignals()
	defer stop()
	recs, err := grid.Grid(ctx, ds, o)
	if err = interrupted(ctx, err, "finished settings and a resume checkpoint are in "+o.Out+"; rerun the same command to continue"); err != nil {
		return err
	}
	slog.Info("done", "new_results", len(recs), "file", o.Out+"/"+grid.ResultsFile)
	all, err := grid.ReadRecords(o.Out + "/" + grid.ResultsFile)
	if err != nil {
		return err
	}
	return grid.WriteTables(stdout, grid.Tables(all, nil), "md")
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string { return grid.SplitList(s) }

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
