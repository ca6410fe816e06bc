package paper

import (
	"fmt"
	"strings"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/grid"
)

// ModelName maps a model name as the paper prints it to the synergo model
// registry name (models.New): FLSTM → eflstm, LFN → lmf, MFN → mfn,
// TFN → tfn, MAGBERT → magbert, MIM → mmim, MISA → misa.
func ModelName(paperName string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(paperName)) {
	case "FLSTM", "EF-LSTM", "EFLSTM":
		return "eflstm", nil
	case "LFN", "LMF":
		return "lmf", nil
	case "MFN":
		return "mfn", nil
	case "TFN":
		return "tfn", nil
	case "MAGBERT", "MAG-BERT":
		return "magbert", nil
	case "MIM", "MMIM":
		return "mmim", nil
	case "MISA":
		return "misa", nil
	}
	return "", fmt.Errorf("paper: unknown model %q (want FLSTM, LFN, MFN, TFN, MAGBERT, MIM or MISA)", paperName)
}

// Setting is a training setting of the paper translated to synergo: the
// regularizer name grid.RegularizerFor takes ("none", "kl", "mmd", "was"),
// the synergy terms switched on (nil = all three; Table 5 switches on one
// at a time) and, for the synergy regularizer, its variant
// (synergy.VariantPaper or synergy.VariantStable; ignored for none and
// was).
type Setting struct {
	Reg     string
	Terms   []string
	Variant synergy.Variant
}

// synergyReg reports whether the setting's regularizer is the synergy
// regularizer (mmd or kl).
func (s Setting) synergyReg() bool { return s.Reg == "mmd" || s.Reg == "kl" }

// Label is the row label grid.Tables gives runs of this setting
// (grid.RegLabel): the regularizer, the terms in brackets when not all
// three are on, the variant in parentheses ("none", "mmd (paper)",
// "mmd[kappa] (stable)").
func (s Setting) Label() string {
	variant := ""
	if s.synergyReg() {
		variant = s.Variant.String()
	}
	return grid.RegLabel(s.Reg, strings.Join(s.Terms, ","), variant)
}

// As returns s with the synergy regularizer's variant v (s itself for none
// and was).
func (s Setting) As(v synergy.Variant) Setting {
	if s.synergyReg() {
		s.Variant = v
	}
	return s
}

// WithStable returns settings followed by the stable variant of each
// synergy setting among them: the paper's settings (SettingOf gives the
// paper variant) and synergo's stabilized counterparts, to train and
// show side by side.
func WithStable(settings []Setting) []Setting {
	out := append([]Setting(nil), settings...)
	for _, s := range settings {
		if s.synergyReg() && s.Variant != synergy.VariantStable {
			out = append(out, s.As(synergy.VariantStable))
		}
	}
	return out
}

// SettingOf maps a training setting as the paper prints it to synergo's:
// NLL and MLE (the unregularized likelihood) → none; NLL+S_KL → kl;
// NLL+S_MMD and Table 5's "+ S_MMD" → mmd with all terms; NLL+I_Was → was
// (the baseline of Colombo et al. 2021); Table 5's "+ L_L2", "+ L_d/MMD" and
// "+ L_κ" → mmd with only that term (terms "l2", "d", "kappa"). The synergy
// settings are of the paper variant (synergy.PaperConfig): the row beside
// the paper's is the paper's regularizer; Setting.As and WithStable give
// the stable one.
func SettingOf(paperSetting string) (Setting, error) {
	s, err := settingOf(paperSetting)
	return s.As(synergy.VariantPaper), err
}

// settingOf is SettingOf before the variant.
func settingOf(paperSetting string) (Setting, error) {
	s := strings.NewReplacer(" ", "", "\t", "", "_", "", "{", "", "}", "", "$", "", `\mathcal`, "", `\kappa`, "κ").Replace(paperSetting)
	switch strings.ToUpper(s) {
	case "NLL", "MLE":
		return Setting{Reg: "none"}, nil
	case "NLL+SKL", "+SKL":
		return Setting{Reg: "kl"}, nil
	case "NLL+SMMD", "+SMMD":
		return Setting{Reg: "mmd"}, nil
	case "NLL+IWAS", "+IWAS":
		return Setting{Reg: "was"}, nil
	case "+LL2":
		return Setting{Reg: "mmd", Terms: []string{"l2"}}, nil
	case "+LD/MMD", "+LD":
		return Setting{Reg: "mmd", Terms: []string{"d"}}, nil
	case "+Lκ", "+LΚ", "+LKAPPA":
		return Setting{Reg: "mmd", Terms: []string{"kappa"}}, nil
	}
	return Setting{}, fmt.Errorf("paper: unknown training setting %q (want NLL, NLL+S_KL, NLL+S_MMD, NLL+I_Was, MLE, + L_L2, + L_d/MMD, + L_κ or + S_MMD)", paperSetting)
}
