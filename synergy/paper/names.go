package paper

import (
	"fmt"
	"strings"

	"github.com/synergo/synergo/synergy/train"
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
// regularizer name grid.RegularizerFor takes ("none", "kl", "mmd", "was")
// and the synergy terms switched on (nil = all three; Table 5 switches on
// one at a time).
type Setting struct {
	Reg   string
	Terms []string
}

// Label is the row label grid.Tables gives runs of this setting: the
// regularizer, followed by the terms in brackets when not all three are on
// ("none", "mmd", "mmd[kappa]").
func (s Setting) Label() string { return train.SettingLabel(s.Reg, strings.Join(s.Terms, ",")) }

// SettingOf maps a training setting as the paper prints it to synergo's:
// NLL and MLE (the unregularized likelihood) → none; NLL+S_KL → kl;
// NLL+S_MMD and Table 5's "+ S_MMD" → mmd with all terms; NLL+I_Was → was
// (the baseline of Colombo et al. 2021); Table 5's "+ L_L2", "+ L_d/MMD" and
// "+ L_κ" → mmd with only that term (terms "l2", "d", "kappa").
func SettingOf(paperSetting string) (Setting, error) {
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
