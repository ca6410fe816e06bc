package datasets

import (
	"fmt"
	"strconv"
	"strings"
)

// Open returns the dataset a data spec names, the one string by which the
// command line, grid plans and notebooks name their data:
//
//	synth:mosi[:SCALE[:SEED[:KNOBS]]]    synthetic stand-in of CMU-MOSI (Synthetic)
//	synth:mosei[:SCALE[:SEED[:KNOBS]]]   … of CMU-MOSEI
//	synth:urfunny[:SCALE[:SEED[:KNOBS]]] … of UR-FUNNY
//	PATH                                 a file or folder Load understands
//
// SCALE multiplies the preset's split sizes (default 1), SEED seeds the
// generator (default 0) and KNOBS sets knobs of the generative process as
// comma-separated key=value pairs (SetKnobs, KnobKeys), e.g.
// synth:mosi:0.25:0:shared=0.8,tails=5. The dataset's Source names every
// knob that differs from the preset's default; its Spec is spec.
func Open(spec string) (*Dataset, error) {
	ds, err := open(spec)
	if err != nil {
		return nil, err
	}
	ds.Spec = spec
	return ds, nil
}

func open(spec string) (*Dataset, error) {
	if rest, ok := strings.CutPrefix(spec, "synth:"); ok {
		parts := strings.SplitN(rest, ":", 4)
		if parts[0] == "" {
			return nil, fmt.Errorf("datasets: data %q: want synth:PRESET[:SCALE[:SEED[:KNOBS]]]", spec)
		}
		cfg := SyntheticConfig{Preset: parts[0], Scale: 1}
		if len(parts) > 1 {
			s, err := strconv.ParseFloat(parts[1], 64)
			if err != nil || !(s > 0) {
				return nil, fmt.Errorf("datasets: data %q: scale %q, want a positive number", spec, parts[1])
			}
			cfg.Scale = s
		}
		if len(parts) > 2 {
			s, err := strconv.ParseUint(parts[2], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("datasets: data %q: seed %q, want a non-negative integer", spec, parts[2])
			}
			cfg.Seed = s
		}
		if len(parts) > 3 {
			if err := SetKnobs(&cfg, parts[3]); err != nil {
				return nil, fmt.Errorf("datasets: data %q: %w", spec, err)
			}
		}
		return Synthetic(cfg)
	}
	if spec == "" {
		return nil, fmt.Errorf("datasets: no data given (want synth:mosi[:SCALE], synth:mosei[:SCALE], synth:urfunny[:SCALE] or a file)")
	}
	return Load(spec)
}
