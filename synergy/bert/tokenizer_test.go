package bert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type tokenizerCase struct {
	Text        string   `json:"text"`
	Basic       []string `json:"basic"`
	Pieces      []string `json:"pieces"`
	IDs         []int    `json:"ids"`
	EncodedIDs  []int    `json:"encoded_ids"`
	EncodedMask []int    `json:"encoded_mask"`
}

type tokenizerFixture struct {
	MaxLen          int             `json:"max_len"`
	MaxCharsPerWord int             `json:"max_chars_per_word"`
	Cases           []tokenizerCase `json:"cases"`
}

func loadTokenizerFixture(t *testing.T) (*Tokenizer, tokenizerFixture) {
	t.Helper()
	tok, err := LoadTokenizer(filepath.Join("testdata", "tiny_checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "tokenizer_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx tokenizerFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("tokenizer fixture has no cases")
	}
	tok.MaxCharsPerWord = fx.MaxCharsPerWord
	return tok, fx
}

// TestTokenizerMatchesPythonReference compares basic tokens, word pieces,
// ids and Encode with the transcription of Google's tokenization.py in
// testdata/make_tokenizer_fixture.py.
func TestTokenizerMatchesPythonReference(t *testing.T) {
	tok, fx := loadTokenizerFixture(t)
	for _, c := range fx.Cases {
		if got := basicTokenize(c.Text); !slices.Equal(got, c.Basic) && !(len(got) == 0 && len(c.Basic) == 0) {
			t.Errorf("basic %q:\n got %q\nwant %q", c.Text, got, c.Basic)
		}
		pieces := tok.Tokenize(c.Text)
		if !slices.Equal(pieces, c.Pieces) && !(len(pieces) == 0 && len(c.Pieces) == 0) {
			t.Errorf("pieces %q:\n got %q\nwant %q", c.Text, pieces, c.Pieces)
		}
		enc, err := tok.Encode(c.Text, fx.MaxLen)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(enc.IDs, c.EncodedIDs) || !slices.Equal(enc.Mask, c.EncodedMask) {
			t.Errorf("Encode %q:\n got ids %v mask %v\nwant ids %v mask %v", c.Text, enc.IDs, enc.Mask, c.EncodedIDs, c.EncodedMask)
		}
		if want := max(0, len(c.IDs)-(fx.MaxLen-2)); enc.Truncated != want {
			t.Errorf("Encode %q: Truncated = %d, want %d", c.Text, enc.Truncated, want)
		}
	}
}

func TestEncodeWordsAlignsPiecesToWords(t *testing.T) {
	tok, _ := loadTokenizerFixture(t)
	enc, err := tok.EncodeWords([]string{"Unaffable", "movie", "", "it's"}, 12)
	if err != nil {
		t.Fatal(err)
	}
	wantTokens := []string{"[CLS]", "un", "##aff", "##able", "movie", "it", "'", "s", "[SEP]", "[PAD]", "[PAD]", "[PAD]"}
	wantWords := []int{-1, 0, 0, 0, 1, 3, 3, 3, -1, -1, -1, -1}
	if !slices.Equal(enc.Tokens, wantTokens) || !slices.Equal(enc.WordIndex, wantWords) {
		t.Fatalf("EncodeWords: tokens %q words %v, want %q %v", enc.Tokens, enc.WordIndex, wantTokens, wantWords)
	}
	if !slices.Equal(enc.Mask, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}) {
		t.Fatalf("mask %v", enc.Mask)
	}
	// Truncation keeps [CLS] and [SEP] and counts what it dropped.
	short, err := tok.EncodeWords([]string{"Unaffable", "movie"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(short.Tokens, []string{"[CLS]", "un", "##aff", "[SEP]"}) || short.Truncated != 2 {
		t.Fatalf("truncated: %q, Truncated %d", short.Tokens, short.Truncated)
	}
	if _, err := tok.Encode("x", 1); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Fatalf("maxLen 1: err = %v", err)
	}
}

func TestReadVocabErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "is empty"},
		{"blank line", "[PAD]\n\n[UNK]", "line 2 is empty"},
		{"duplicate", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[UNK]", `"[UNK]" on line 5 repeats line 2`},
		{"no unk", "[PAD]\n[CLS]\n[SEP]", "no [UNK]"},
	} {
		_, err := ReadVocab(strings.NewReader(tc.text), "v.txt")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "v.txt") {
			t.Errorf("%s: err = %v, want it to name v.txt and contain %q", tc.name, err, tc.want)
		}
	}
	v, err := ReadVocab(strings.NewReader("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n"), "crlf")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := v.ID("[CLS]"); !ok || id != 2 || v.Size() != 4 || v.Token(3) != "[SEP]" || v.Token(4) != "" {
		t.Fatalf("CRLF vocabulary read wrongly: id %d %v size %d", id, ok, v.Size())
	}
}
