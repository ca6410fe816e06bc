package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/synergo/synergo/datasets/csd"
)

// InspectSummary is the JSON document Inspect returns for a dataset.
type InspectSummary struct {
	Format string        `json:"format"`
	Name   string        `json:"name"`
	Source string        `json:"source"`
	Task   string        `json:"task"`
	Splits InspectSplits `json:"splits"`
}

// InspectSplits holds the split summaries in train, valid, test order.
type InspectSplits struct {
	Train InspectSplit `json:"train"`
	Valid InspectSplit `json:"valid"`
	Test  InspectSplit `json:"test"`
}

// InspectSplit summarizes one split; an absent modality is omitted.
type InspectSplit struct {
	Samples int              `json:"samples"`
	Text    *InspectModality `json:"text,omitempty"`
	Audio   *InspectModality `json:"audio,omitempty"`
	Vision  *InspectModality `json:"vision,omitempty"`
	Labels  InspectLabels    `json:"labels"`
}

// InspectModality gives the feature size and the padded length T.
type InspectModality struct {
	Dim    int `json:"dim"`
	MaxLen int `json:"max_len"`
}

// InspectLabels gives the mean, range and number of exact zeros of the
// labels.
type InspectLabels struct {
	Mean  float64 `json:"mean"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Zeros int     `json:"zeros"`
}

// InspectCSD is the JSON document Inspect returns for a single CMU SDK
// computational sequence: its name, the number of entries (videos), the
// total number of rows over all entries and the feature size.
type InspectCSD struct {
	Format   string `json:"format"`
	Sequence string `json:"sequence"`
	Videos   int    `json:"videos"`
	Rows     int    `json:"rows"`
	Dim      int    `json:"dim"`
}

// hdf5Magic starts every HDF5 file whose superblock is at offset 0.
var hdf5Magic = []byte("\x89HDF\r\n\x1a\n")

// Inspect returns an indented JSON summary of the file at path. For a
// dataset in any format Load knows it is
//
//	{"format": F, "name": …, "source": …, "task": …, "splits": {"train": {"samples": N,
//	 "text": {"dim": D, "max_len": T}, "audio": {…}, "vision": {…},
//	 "labels": {"mean": m, "min": a, "max": b, "zeros": z}}, "valid": …, "test": …}}
//
// and for a single CMU-MultimodalSDK computational sequence (a .csd HDF5
// file, read with package csd) it is
//
//	{"format": "cmu-csd", "sequence": NAME, "videos": V, "rows": R, "dim": D}
//
// where dim is the feature size shared by the entries (an error when they
// disagree). Errors name the file.
func Inspect(path string) ([]byte, error) {
	isCSD, err := looksLikeCSD(path)
	if err != nil {
		return nil, err
	}
	var doc any
	if isCSD {
		if doc, err = inspectCSD(path); err != nil {
			return nil, err
		}
	} else {
		format, err := DetectFormat(path)
		if err != nil {
			return nil, err
		}
		d, err := LoadFormat(path, format)
		if err != nil {
			return nil, err
		}
		doc = summarize(format, d)
	}
	return json.MarshalIndent(doc, "", "  ")
}

// looksLikeCSD reports whether path is a regular file named *.csd or
// starting with the HDF5 signature.
func looksLikeCSD(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, fmt.Errorf("datasets: %w", err)
	}
	if st.IsDir() {
		return false, nil
	}
	if strings.EqualFold(filepath.Ext(path), ".csd") {
		return true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(hdf5Magic))
	n, _ := f.Read(head)
	return bytes.Equal(head[:n], hdf5Magic), nil
}

func inspectCSD(path string) (*InspectCSD, error) {
	seq, err := csd.Open(path)
	if err != nil {
		return nil, err
	}
	out := &InspectCSD{Format: "cmu-csd", Sequence: seq.Name, Videos: len(seq.Entries)}
	first := ""
	for _, id := range seq.IDs() {
		e := seq.Entries[id]
		out.Rows += e.Rows
		if first == "" {
			first, out.Dim = id, e.Dim
		} else if e.Dim != out.Dim {
			return nil, fmt.Errorf("datasets: %s: entry %s has %d features per row, entry %s has %d", path, id, e.Dim, first, out.Dim)
		}
	}
	return out, nil
}

// summarize builds the InspectSummary of a loaded dataset.
func summarize(format string, d *Dataset) *InspectSummary {
	split := func(s *Split) InspectSplit {
		out := InspectSplit{Samples: s.Len()}
		mods := [NumModalities]**InspectModality{&out.Text, &out.Audio, &out.Vision}
		for m, f := range s.Features {
			if f != nil {
				*mods[m] = &InspectModality{Dim: f.D, MaxLen: f.T}
			}
		}
		lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
		for _, y := range s.Labels {
			v := float64(y)
			lo, hi, sum = math.Min(lo, v), math.Max(hi, v), sum+v
			if v == 0 {
				out.Labels.Zeros++
			}
		}
		if n := s.Len(); n > 0 {
			out.Labels.Mean, out.Labels.Min, out.Labels.Max = sum/float64(n), lo, hi
		}
		return out
	}
	return &InspectSummary{
		Format: format,
		Name:   d.Name,
		Source: d.Source,
		Task:   d.Task.String(),
		Splits: InspectSplits{Train: split(d.Train), Valid: split(d.Valid), Test: split(d.Test)},
	}
}
