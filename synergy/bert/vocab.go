package bert

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Special tokens of BERT's uncased vocabularies.
const (
	PadToken  = "[PAD]"
	UnkToken  = "[UNK]"
	ClsToken  = "[CLS]"
	SepToken  = "[SEP]"
	MaskToken = "[MASK]"
)

// Vocab maps WordPiece tokens to ids: the id of a token is its line number
// (from 0) in vocab.txt.
type Vocab struct {
	tokens []string
	ids    map[string]int
}

// LoadVocab reads a vocab.txt file: one token per line, id = line number.
func LoadVocab(path string) (*Vocab, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bert: vocabulary: %w", err)
	}
	defer f.Close()
	return ReadVocab(f, path)
}

// ReadVocab reads a vocabulary in vocab.txt format from r; name identifies
// the source in error messages. Trailing "\r" is removed from each line. An
// empty vocabulary, an empty token or a repeated token is an error, and the
// special tokens [UNK], [CLS], [SEP] and [PAD] must be present.
func ReadVocab(r io.Reader, name string) (*Vocab, error) {
	v := &Vocab{ids: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		tok := strings.TrimSuffix(sc.Text(), "\r")
		line := len(v.tokens) + 1
		if tok == "" {
			return nil, fmt.Errorf("bert: vocabulary %s: line %d is empty, want one token per line", name, line)
		}
		if prev, dup := v.ids[tok]; dup {
			return nil, fmt.Errorf("bert: vocabulary %s: token %q on line %d repeats line %d", name, tok, line, prev+1)
		}
		v.ids[tok] = len(v.tokens)
		v.tokens = append(v.tokens, tok)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bert: vocabulary %s: %w", name, err)
	}
	if len(v.tokens) == 0 {
		return nil, fmt.Errorf("bert: vocabulary %s is empty", name)
	}
	for _, s := range []string{UnkToken, ClsToken, SepToken, PadToken} {
		if _, ok := v.ids[s]; !ok {
			return nil, fmt.Errorf("bert: vocabulary %s has no %s token", name, s)
		}
	}
	return v, nil
}

// NewVocab builds a vocabulary from tokens (id = index), with the same
// checks as ReadVocab.
func NewVocab(tokens []string) (*Vocab, error) {
	return ReadVocab(strings.NewReader(strings.Join(tokens, "\n")), "(in memory)")
}

// Size returns the number of tokens.
func (v *Vocab) Size() int { return len(v.tokens) }

// ID returns the id of token and whether it is in the vocabulary.
func (v *Vocab) ID(token string) (int, bool) { id, ok := v.ids[token]; return id, ok }

// Token returns the token with the given id, or "" if id is out of range.
func (v *Vocab) Token(id int) string {
	if id < 0 || id >= len(v.tokens) {
		return ""
	}
	return v.tokens[id]
}

// mustID returns the id of a special token that ReadVocab has checked.
func (v *Vocab) mustID(token string) int { return v.ids[token] }
