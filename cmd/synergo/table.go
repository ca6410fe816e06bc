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
		summary: "print the paper's table layout (mean ± std over seeds, Δ to no regularizer) from results.jsonl",
		run:     runTable,
	})
}

const tableSynopsis = "table --in DIR|results.jsonl [--format md|csv|json] [--corrupted]"

func runTable(args []string, stdout io.Writer) error {
	fs := newFlagSet("table")
	in := fs.String("in", "", "output folder of train/grid, or a results.jsonl file")
	format := fs.String("format", "md", "md, csv or json")
	corrupted := fs.Bool("corrupted", false, "Table 4 layout: binary accuracy on the test set with T, T+V, T+A dropped")
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
	path := *in
	if st, err := os.Stat(path); err != nil {
		return err
	} else if st.IsDir() {
		path = filepath.Join(path, grid.ResultsFile)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no results: %w", err)
	}
	recs, err := grid.ReadRecords(path)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("%s holds no results", path)
	}
	var cols []grid.Column
	if *corrupted {
		cols = grid.CorruptionColumns()
	}
	return grid.WriteTables(stdout, grid.Tables(recs, cols), *format)
}
