package bert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Config is the architecture of a BERT encoder; the JSON names are those of
// Hugging Face's config.json (BertConfig).
type Config struct {
	VocabSize                 int     `json:"vocab_size"`
	HiddenSize                int     `json:"hidden_size"`
	NumHiddenLayers           int     `json:"num_hidden_layers"`
	NumAttentionHeads         int     `json:"num_attention_heads"`
	IntermediateSize          int     `json:"intermediate_size"`
	MaxPositionEmbeddings     int     `json:"max_position_embeddings"`
	TypeVocabSize             int     `json:"type_vocab_size"`
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"`
	// LayerNormEps is ε of every LayerNorm; 1e−12 in BERT.
	LayerNormEps float64 `json:"layer_norm_eps"`
	// HiddenAct must be "gelu" (the exact erf form); the tanh
	// approximations "gelu_new" and "gelu_pytorch_tanh" are not supported.
	HiddenAct string `json:"hidden_act"`
	// InitializerRange is the standard deviation of the normal initializer
	// of weights and embeddings when training from scratch (0.02).
	InitializerRange float64 `json:"initializer_range"`
	// PositionEmbeddingType must be "absolute" (or empty).
	PositionEmbeddingType string `json:"position_embedding_type,omitempty"`
}

// BaseConfig returns bert-base-uncased: 12 layers of width 768, 12 heads,
// feed-forward 3072, vocabulary 30522, 512 positions.
func BaseConfig() Config {
	return Config{
		VocabSize: 30522, HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12,
		IntermediateSize: 3072, MaxPositionEmbeddings: 512, TypeVocabSize: 2,
		HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1, LayerNormEps: 1e-12,
		HiddenAct: "gelu", InitializerRange: 0.02, PositionEmbeddingType: "absolute",
	}
}

// namedSizes are the small BERTs of Turc et al. 2019 ("Well-read students
// learn better", google-research/bert's 24 compact models): layers, width,
// heads; the feed-forward is 4× the width.
var namedSizes = map[string][3]int{
	"tiny":   {2, 128, 2},
	"mini":   {4, 256, 4},
	"small":  {4, 512, 8},
	"medium": {8, 512, 8},
	"base":   {12, 768, 12},
}

// NamedConfigs returns the names accepted by NamedConfig, sorted.
func NamedConfigs() []string {
	names := make([]string, 0, len(namedSizes))
	for n := range namedSizes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NamedConfig returns a configuration for training from scratch: "tiny"
// (2 layers × 128, 2 heads, feed-forward 512), "mini" (4 × 256, 4 heads,
// 1024), "small" (4 × 512, 8 heads, 2048), "medium" (8 × 512, 8 heads,
// 2048) or "base" (BaseConfig). The vocabulary, positions and dropout are
// BERT-base's; set VocabSize and MaxPositionEmbeddings to the data's.
func NamedConfig(name string) (Config, error) {
	s, ok := namedSizes[name]
	if !ok {
		return Config{}, fmt.Errorf("bert: unknown configuration %q (want one of %s)", name, strings.Join(NamedConfigs(), ", "))
	}
	c := BaseConfig()
	c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads = s[0], s[1], s[2]
	c.IntermediateSize = 4 * s[1]
	return c, nil
}

// LoadConfig reads a Hugging Face config.json. Unknown fields are ignored;
// a missing layer_norm_eps, hidden_act or initializer_range takes BERT's
// default (1e−12, "gelu", 0.02), missing dropouts are 0.1. The result is
// validated.
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("bert: config: %w", err)
	}
	return ParseConfig(raw, path)
}

// ParseConfig decodes config.json content; name identifies it in errors.
func ParseConfig(raw []byte, name string) (Config, error) {
	c := Config{
		LayerNormEps: 1e-12, HiddenAct: "gelu", InitializerRange: 0.02,
		HiddenDropoutProb: 0.1, AttentionProbsDropoutProb: 0.1, TypeVocabSize: 2,
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("bert: config %s: %w", name, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("bert: config %s: %w", name, err)
	}
	return c, nil
}

// Validate returns an error naming the first field that is out of range.
func (c Config) Validate() error {
	positive := []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads}, {"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings}, {"type_vocab_size", c.TypeVocabSize},
	}
	for _, f := range positive {
		if f.v <= 0 {
			return fmt.Errorf("%s is %d, want a positive integer", f.name, f.v)
		}
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"hidden_dropout_prob", c.HiddenDropoutProb}, {"attention_probs_dropout_prob", c.AttentionProbsDropoutProb}} {
		if !(f.v >= 0 && f.v < 1) {
			return fmt.Errorf("%s is %v, want a probability in [0, 1)", f.name, f.v)
		}
	}
	if !(c.LayerNormEps > 0) {
		return fmt.Errorf("layer_norm_eps is %v, want > 0", c.LayerNormEps)
	}
	if !(c.InitializerRange > 0) {
		return fmt.Errorf("initializer_range is %v, want > 0", c.InitializerRange)
	}
	if c.HiddenAct != "gelu" {
		return fmt.Errorf("hidden_act is %q, only \"gelu\" (exact erf GELU) is supported", c.HiddenAct)
	}
	if c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("position_embedding_type is %q, only \"absolute\" is supported", c.PositionEmbeddingType)
	}
	return nil
}

// HeadSize returns hidden_size / num_attention_heads.
func (c Config) HeadSize() int { return c.HiddenSize / c.NumAttentionHeads }
