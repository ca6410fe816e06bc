package bert

import (
	"fmt"
	"path/filepath"
)

// Tokenizer is BERT's uncased WordPiece tokenizer: basic tokenization
// (cleaning, CJK splitting, lower-casing, accent stripping, punctuation
// splitting) followed by greedy longest-match-first WordPiece.
//
// Deviations from Hugging Face's BertTokenizer: special tokens written in
// the text (such as "[SEP]") are split like any other text, and there is no
// cased mode. Unicode tables are Go's (Unicode 15), Python 3.11's are
// Unicode 14; characters assigned in between are classified differently.
type Tokenizer struct {
	Vocab *Vocab
	// MaxCharsPerWord: a basic token with more characters becomes [UNK].
	MaxCharsPerWord int
}

// NewTokenizer returns a tokenizer over v with DefaultMaxCharsPerWord.
func NewTokenizer(v *Vocab) *Tokenizer {
	return &Tokenizer{Vocab: v, MaxCharsPerWord: DefaultMaxCharsPerWord}
}

// LoadTokenizer reads dir/vocab.txt.
func LoadTokenizer(dir string) (*Tokenizer, error) {
	v, err := LoadVocab(filepath.Join(dir, "vocab.txt"))
	if err != nil {
		return nil, err
	}
	return NewTokenizer(v), nil
}

// Tokenize returns the WordPiece tokens of text (without [CLS]/[SEP]).
func (t *Tokenizer) Tokenize(text string) []string {
	var out []string
	for _, w := range basicTokenize(text) {
		out = append(out, wordPiece(w, t.Vocab, t.MaxCharsPerWord)...)
	}
	return out
}

// Encoding is one encoded sequence of fixed length: [CLS] tokens [SEP]
// followed by [PAD] up to the requested length.
type Encoding struct {
	Tokens  []string
	IDs     []int
	TypeIDs []int // all 0 (single sentence)
	Mask    []int // 1 for [CLS], the tokens and [SEP]; 0 for padding
	// WordIndex gives, per position, the index of the input word the token
	// came from (EncodeWords), or −1 for [CLS], [SEP] and padding. Encode
	// counts the basic tokens of the text (words and punctuation marks).
	WordIndex []int
	// Truncated is the number of word pieces dropped to fit the length.
	Truncated int
}

// Encode tokenizes text and returns [CLS] pieces [SEP] padded with [PAD]
// to maxLen; pieces beyond maxLen−2 are dropped (counted in Truncated).
// maxLen must be at least 2.
func (t *Tokenizer) Encode(text string, maxLen int) (Encoding, error) {
	return t.EncodeWords(basicTokenize(text), maxLen)
}

// EncodeWords encodes a sequence of words (for example a transcript's
// word list, to which acoustic and visual features are aligned), recording
// in WordIndex which word each piece came from: MAG-BERT repeats a word's
// feature vector for each of its pieces. Each word is basic-tokenized and
// split into pieces; a word yielding no piece (empty after cleaning)
// contributes nothing.
func (t *Tokenizer) EncodeWords(words []string, maxLen int) (Encoding, error) {
	if maxLen < 2 {
		return Encoding{}, fmt.Errorf("bert: Encode: maximum length %d is too short, need at least 2 for [CLS] and [SEP]", maxLen)
	}
	e := Encoding{
		Tokens: make([]string, 0, maxLen), IDs: make([]int, 0, maxLen),
		TypeIDs: make([]int, maxLen), Mask: make([]int, maxLen), WordIndex: make([]int, 0, maxLen),
	}
	add := func(tok string, word int) {
		id, ok := t.Vocab.ID(tok)
		if !ok {
			id = t.Vocab.mustID(UnkToken)
		}
		e.Tokens = append(e.Tokens, tok)
		e.IDs = append(e.IDs, id)
		e.WordIndex = append(e.WordIndex, word)
	}
	add(ClsToken, -1)
	for wi, w := range words {
		for _, bt := range basicTokenize(w) {
			for _, p := range wordPiece(bt, t.Vocab, t.MaxCharsPerWord) {
				if len(e.IDs) < maxLen-1 {
					add(p, wi)
				} else {
					e.Truncated++
				}
			}
		}
	}
	add(SepToken, -1)
	for i := range e.IDs {
		e.Mask[i] = 1
	}
	for len(e.IDs) < maxLen {
		add(PadToken, -1)
	}
	return e, nil
}
