package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/synergo/synergo/datasets"
)

func init() {
	register(command{
		name:    "data",
		summary: "inspect a dataset or .csd file (data inspect), write a synthetic dataset (data synth)",
		run:     runData,
	})
}

const dataUsage = `usage:
  synergo data inspect PATH
      print a JSON summary of a dataset (any format synergo reads) or a CMU SDK .csd file
  synergo data synth --like mosi|mosei|urfunny [--scale F] [--seed S] [--knobs shared=0.8,tails=5] --out FILE.npz
      write a synthetic stand-in dataset (see datasets/SYNTHETIC.md) as npz (datasets/FORMAT.md); --knobs sets
      knobs of the generative process as in a data spec (synth:mosi:SCALE:SEED:KNOBS)`

// runData dispatches "synergo data SUBCOMMAND".
func runData(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("missing subcommand\n" + dataUsage)
	}
	switch args[0] {
	case "inspect":
		return runDataInspect(args[1:], stdout)
	case "synth":
		return runDataSynth(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, dataUsage)
		return nil
	}
	return fmt.Errorf("unknown subcommand %q\n%s", args[0], dataUsage)
}

// runDataInspect prints datasets.Inspect(PATH).
func runDataInspect(args []string, stdout io.Writer) error {
	fs := newFlagSet("data inspect")
	if err := parseFlags(fs, "data inspect PATH", args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("data inspect takes one PATH, got %d arguments", fs.NArg())
	}
	out, err := datasets.Inspect(fs.Arg(0))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

// runDataSynth generates a synthetic dataset and saves it as npz.
func runDataSynth(args []string, stdout io.Writer) error {
	fs := newFlagSet("data synth")
	like := fs.String("like", "", "preset to imitate: mosi, mosei or urfunny (required)")
	scale := fs.Float64("scale", 1, "multiplier of the real split sizes (each split keeps at least 8 samples)")
	seed := fs.Uint64("seed", 0, "random seed; the same seed gives the same file contents")
	knobs := fs.String("knobs", "", "knobs of the generative process as key=value pairs (keys: "+strings.Join(datasets.KnobKeys(), ", ")+
		"; datasets/SYNTHETIC.md), e.g. shared=0.8,labelshared=0.5,tails=5,outliers=0.02")
	out := fs.String("out", "", "output .npz file (required)")
	if err := parseFlags(fs, "data synth --like mosi|mosei|urfunny [--scale F] [--seed S] [--knobs K=V,...] --out FILE.npz", args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("data synth: unexpected arguments %s", strings.Join(fs.Args(), " "))
	}
	if *like == "" || *out == "" {
		return errors.New("data synth needs --like and --out")
	}
	if !(*scale > 0) || math.IsInf(*scale, 0) {
		return fmt.Errorf("data synth: --scale %v: want a positive number (1 = the real split sizes)", *scale)
	}
	cfg, err := datasets.SyntheticPreset(*like)
	if err != nil {
		return err
	}
	cfg.Scale, cfg.Seed = *scale, *seed
	if *knobs != "" {
		if err := datasets.SetKnobs(&cfg, *knobs); err != nil {
			return fmt.Errorf("--knobs: %w", err)
		}
	}
	start := time.Now()
	d, err := datasets.Synthetic(cfg)
	if err != nil {
		return err
	}
	slog.Info("generated", "source", d.Source, "train", d.Train.Len(), "valid", d.Valid.Len(), "test", d.Test.Len(), "elapsed", time.Since(start).Round(time.Millisecond))
	if err := datasets.SaveNPZ(*out, d); err != nil {
		return err
	}
	slog.Info("wrote", "path", *out, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}
