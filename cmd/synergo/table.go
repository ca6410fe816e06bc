package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/synergo/synergo/synergy/grid"
)

func init() {
	register(command{
		name:    "table",
		summary: "print the paper's table layout (mean ± std over seeds, Δ to no regularizer) from results.jsonl; also the mechanism and knob studies' layouts and the paper's claims with verdicts",
		run:     runTable,
	})
}

const tableSynopsis = "table --in DIR|results.jsonl[,DIR…] [--format md|csv|json] [--layout main|corrupted|mechanism|knobs|claims] [--corrupted]"

func runTable(args []string, stdout io.Writer) error {
	fs := newFlagSet("table")
	in := fs.String("in", "", "output folders of train/grid (or grid plan folders after collect), or results.jsonl files; several separated by commas")
	format := fs.String("format", "md", "md, csv or json (knobs: md or json)")
	layout := fs.String("layout", "main", "main: Tables 2–3 (or 6 for binary data); corrupted: Table 4 (binary accuracy with T, T+V, T+A dropped); "+
		"mechanism: test MAE and Acc2 with the held-out diagnostics (kurtosis, MMD², R²) per model and setting; "+
		"knobs: one row per data source (synthetic world), model and regularized setting with its paired Δ to NLL and a verdict; "+
		"claims: the paper's claims (Tables 2/3, 4, 5, 6), one row per claim, data, model, variant and metric with the paired Δ, its 95% interval and a verdict")
	corrupted := fs.Bool("corrupted", false, "same as --layout corrupted")
	if err := parseFlags(fs, tableSynopsis, args, stdout); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		return fmt.Errorf("--in is required (and nothing else)\nusage: synergo %s", tableSynopsis)
	}
	switch *format {
	case "md", "csv", "json":
	default:
		return fmt.Errorf("--format %q: want md, csv or json", *format)
	}
	if *corrupted {
		*layout = "corrupted"
	}
	var recs []grid.Record
	inputs := splitList(*in)
	for _, path := range inputs {
		if st, err := os.Stat(path); err != nil {
			return err
		} else if st.IsDir() {
			path = filepath.Join(path, grid.ResultsFile)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no results: %w", err)
		}
		r, err := grid.ReadRecords(path)
		if err != nil {
			return err
		}
		if len(r) == 0 {
			return fmt.Errorf("%s holds no results", path)
		}
		recs = append(recs, r...)
	}
	var cols []grid.Column
	switch *layout {
	case "main":
	case "corrupted":
		cols = grid.CorruptionColumns()
	case "mechanism":
		cols = grid.MechanismColumns()
	case "knobs":
		if *format == "csv" {
			return fmt.Errorf("--layout knobs: --format csv is not supported (md or json)")
		}
		return grid.WriteWorlds(stdout, grid.Worlds(recs, nil), *format)
	case "claims":
		if *format == "csv" {
			return fmt.Errorf("--layout claims: --format csv is not supported (md or json)")
		}
		t := grid.Claims(recs)
		t.Inputs = inputs
		return grid.WriteClaims(stdout, t, *format)
	default:
		return fmt.Errorf("--layout %q: want main, corrupted, mechanism, knobs or claims", *layout)
	}
	return grid.WriteTables(stdout, grid.Tables(recs, cols), *format)
}
