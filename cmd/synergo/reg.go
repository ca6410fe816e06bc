package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/train"
)

func init() {
	register(command{
		name:    "reg",
		summary: "inspect the synergy regularizer: dump one training batch's terms and their inputs to .npz (reg dump)",
		run:     runReg,
	})
}

const regDumpSynopsis = "reg dump --model M --data SPEC --reg mmd|kl [--variant stable|paper] [--steps N] [--seed S] [--batch B] [--lr R] [--reg-set k=v,...] --out FILE.npz"

const regUsage = `usage:
  synergo ` + regDumpSynopsis + `
      train N steps (default 1) as "synergo train" would, then write the regularizer on the next
      training batch — representations, C-network outputs, kernel widths, moving covariances
      before and after, the terms — as float64 arrays (see the README, "The regularizer's dump");
      synergy/testdata/recompute_regularizer.py recomputes the terms from the file with NumPy`

// runReg dispatches "synergo reg SUBCOMMAND".
func runReg(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("missing subcommand\n" + regUsage)
	}
	switch args[0] {
	case "dump":
		return runRegDump(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, regUsage)
		return nil
	}
	return fmt.Errorf("unknown subcommand %q\n%s", args[0], regUsage)
}

// runRegDump trains --steps steps and writes the regularizer's snapshot
// of the next batch (train.Trainer.RegularizerSnapshot) to --out.
func runRegDump(args []string, stdout io.Writer) error {
	fs := newFlagSet("reg dump")
	model := fs.String("model", "", "model: eflstm, tfn, lmf, mfn, magbert, misa, mmim")
	data := fs.String("data", "", "synth:mosi[:SCALE[:SEED]], synth:mosei[...], synth:urfunny[...] or a dataset file")
	reg := fs.String("reg", "mmd", "the synergy regularizer's divergence: mmd or kl")
	variant := fs.String("variant", "stable", "regularizer variant: stable or paper (synergy.PaperConfig)")
	regSet := fs.String("reg-set", "", "regularizer settings as key=value pairs on top of the variant's preset (see synergy.Config)")
	steps := fs.Int("steps", 1, "training steps before the dumped batch")
	seed := fs.Uint64("seed", 1111, "run seed (data order, initialization, dropout, C-network)")
	batch := fs.Int("batch", 32, "batch size")
	lr := fs.Float64("lr", 1e-3, "learning rate of the model")
	out := fs.String("out", "", "the .npz file to write")
	if err := parseFlags(fs, regDumpSynopsis, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\nusage: synergo %s", fs.Args(), regDumpSynopsis)
	}
	if *model == "" || *data == "" || *out == "" {
		return fmt.Errorf("--model, --data and --out are required\nusage: synergo %s", regDumpSynopsis)
	}
	v, err := synergy.ParseVariant(*variant)
	if err != nil {
		return fmt.Errorf("--variant: %w", err)
	}
	div, err := synergy.ParseDivergence(*reg)
	if err != nil || div == synergy.DivergenceNone {
		return fmt.Errorf("--reg %q: want mmd or kl", *reg)
	}
	cfg := synergy.VariantConfig(v, div)
	if err := cfg.Override(*regSet); err != nil {
		return fmt.Errorf("--reg-set: %w", err)
	}
	if *steps < 0 || *batch < 2 || !(*lr > 0) {
		return fmt.Errorf("--steps %d, --batch %d, --lr %v: want steps ≥ 0, batch ≥ 2, lr > 0", *steps, *batch, *lr)
	}
	ds, err := datasets.Open(*data)
	if err != nil {
		return err
	}
	tr, err := train.New(ds, train.Options{
		Model: *model, Regularizer: &synergy.Choice{Synergy: &cfg}, Seed: *seed,
		BatchSize: *batch, LearningRate: *lr, Logger: slog.Default(),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	snap, err := tr.RegularizerSnapshot(ctx, *steps)
	if err != nil {
		return err
	}
	arrays, err := snap.Arrays()
	if err != nil {
		return err
	}
	npz := make([]datasets.NPZArray, len(arrays))
	for i, a := range arrays {
		npz[i] = datasets.NPZArray(a)
	}
	if err := datasets.SaveArraysNPZ(*out, npz); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: %s %s (%s) on %s after %d steps, batch %d: l2 %.6g, d %.6g, kappa %.6g, total %.6g (weighted: γ_L2·l2 %.6g, γ_d·d %.6g, γ_κ·kappa %.6g; β·total %.6g)\n",
		*out, *model, div, v, ds.Source, *steps, snap.Fused.RawMatrix().Rows, snap.L2, snap.D, snap.Kappa, snap.Total,
		cfg.GammaL2*snap.L2, cfg.GammaD*snap.D, cfg.GammaKappa*snap.Kappa, cfg.Beta*snap.Total)
	return err
}
