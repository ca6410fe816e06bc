package train

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/synergo/synergo/datasets"
)

// LoadData returns the dataset named by spec:
//
//	synth:mosi[:SCALE[:SEED]]    synthetic stand-in of CMU-MOSI (datasets.Synthetic)
//	synth:mosei[:SCALE[:SEED]]   … of CMU-MOSEI
//	synth:urfunny[:SCALE[:SEED]] … of UR-FUNNY
//	PATH                         a file datasets.Load understands
//
// SCALE defaults to 1 and SEED to 0.
func LoadData(spec string) (*datasets.Dataset, error) {
	if rest, ok := strings.CutPrefix(spec, "synth:"); ok {
		parts := strings.Split(rest, ":")
		if len(parts) > 3 || parts[0] == "" {
			return nil, fmt.Errorf("train: data %q: want synth:PRESET[:SCALE[:SEED]]", spec)
		}
		cfg := datasets.SyntheticConfig{Preset: parts[0], Scale: 1}
		if len(parts) > 1 {
			s, err := strconv.ParseFloat(parts[1], 64)
			if err != nil || !(s > 0) {
				return nil, fmt.Errorf("train: data %q: scale %q, want a positive number", spec, parts[1])
			}
			cfg.Scale = s
		}
		if len(parts) > 2 {
			s, err := strconv.ParseUint(parts[2], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("train: data %q: seed %q, want a non-negative integer", spec, parts[2])
			}
			cfg.Seed = s
		}
		return datasets.Synthetic(cfg)
	}
	if spec == "" {
		return nil, fmt.Errorf("train: no data given (want synth:mosi[:SCALE], synth:mosei[:SCALE], synth:urfunny[:SCALE] or a file)")
	}
	return datasets.Load(spec)
}
