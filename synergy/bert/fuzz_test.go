package bert

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzTokenizer: any text encodes without panicking to maxLen ids that are
// in the vocabulary, with [CLS] first, one [SEP], and a mask of leading ones.
func FuzzTokenizer(f *testing.F) {
	tok, err := LoadTokenizer(tinyCheckpoint)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"Café naïve", "中文 ΣΑΣ", "\x00\ufffd\u200b", "a,b.c", string([]byte{0xff, 0xfe})} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		maxLen = 2 + (maxLen%32+32)%32
		enc, err := tok.Encode(text, maxLen)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc.IDs) != maxLen || len(enc.Mask) != maxLen || len(enc.Tokens) != maxLen || len(enc.WordIndex) != maxLen {
			t.Fatalf("lengths %d %d %d %d, want %d", len(enc.IDs), len(enc.Mask), len(enc.Tokens), len(enc.WordIndex), maxLen)
		}
		seps := 0
		for i, id := range enc.IDs {
			if tok.Vocab.Token(id) != enc.Tokens[i] {
				t.Fatalf("position %d: id %d is %q, token %q", i, id, tok.Vocab.Token(id), enc.Tokens[i])
			}
			if enc.Tokens[i] == SepToken {
				seps++
			}
			if i > 0 && enc.Mask[i] > enc.Mask[i-1] {
				t.Fatalf("mask %v is not ones then zeros", enc.Mask)
			}
			if !utf8.ValidString(enc.Tokens[i]) && enc.Tokens[i] != UnkToken {
				t.Fatalf("token %q is not valid UTF-8", enc.Tokens[i])
			}
		}
		if enc.Tokens[0] != ClsToken || seps != 1 {
			t.Fatalf("tokens %q", enc.Tokens)
		}
	})
}

// FuzzReadTorchStateDict: arbitrary bytes in pytorch_model.bin give an
// error or tensors, never a panic.
func FuzzReadTorchStateDict(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join(tinyCheckpoint, "pytorch_model.bin"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/3])
	f.Add([]byte("PK\x03\x04"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "pytorch_model.bin")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ts, err := ReadTorchStateDict(p)
		if err != nil {
			return
		}
		for name, x := range ts {
			if n, err := numElements(x.Shape, len(x.Data)+1); err != nil || n != len(x.Data) {
				t.Fatalf("%s: shape %v with %d values", name, x.Shape, len(x.Data))
			}
		}
	})
}
