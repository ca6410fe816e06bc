// Package realdata locates the optional real files that some tests read:
// small public files of CMU-MOSI and UR-FUNNY (word transcripts as a CMU
// SDK .csd, opinion labels, standard folds) and the paper's text. The
// repository does not redistribute them; a test that needs one calls File
// and is skipped when it is not configured or absent.
//
//	SYNERGO_REAL_DATA   a folder holding the real data files in their
//	                    release layout, for example
//	                    mosi_timestamped_words/CMU_MOSI_ModifiedTimestampedWords.csd,
//	                    mosi_opinion_labels/OpinionLevelSentiment.csv,
//	                    cmu_sdk_standard_folds/mosi_standard_folds.json,
//	                    urfunny_labels_folds/{data_folds,humor_label_sdk}.pkl
//	SYNERGO_PAPER_TEXT  the paper "Multimodal fusion via cortical network
//	                    inspired losses" as plain text
//
// For example: SYNERGO_REAL_DATA=$HOME/synergo-data make test.
package realdata

import (
	"os"
	"path/filepath"
	"testing"
)

// DataEnv and PaperEnv are the environment variables File and PaperText read.
const (
	DataEnv  = "SYNERGO_REAL_DATA"
	PaperEnv = "SYNERGO_PAPER_TEXT"
)

// File returns the path of rel (slash-separated) under $SYNERGO_REAL_DATA,
// or skips t when the variable is unset or the file or folder is absent.
func File(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv(DataEnv)
	if dir == "" {
		t.Skipf("real data not configured: set %s to the folder holding %s", DataEnv, rel)
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		t.Skipf("real data absent (%s): %v", DataEnv, err)
	}
	return path
}

// PaperText returns the path in $SYNERGO_PAPER_TEXT, or skips t when the
// variable is unset or the file is absent.
func PaperText(t testing.TB) string {
	t.Helper()
	path := os.Getenv(PaperEnv)
	if path == "" {
		t.Skipf("the paper's text not configured: set %s to its plain-text file", PaperEnv)
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("the paper's text absent (%s): %v", PaperEnv, err)
	}
	return path
}
