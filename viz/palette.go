package viz

import (
	"image/color"
	"regexp"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A training setting has one colour in every figure of every notebook, so that a reader can
// follow it from the bars of one figure to the curves of the next. SettingKey recognises the
// names settings go by — the paper's ("NLL", "NLL+S_MMD", "+ L_κ"), synergo's ("none", "mmd",
// "mmd[kappa]") and legend labels built from them ("paper: NLL+S_KL", "mmd (3 seeds)",
// "NLL+S_MMD (stable)") — and maps them to one of these keys; settingColors gives each key its
// colour (Okabe & Ito's colour-blind-safe palette for the main settings, Paul Tol's muted palette
// for the single-term ablations; the "stable" variant of a regularizer takes the lighter colour
// of its pair):
//
//	key                  colour    names (examples)
//	NLL                  #555555   none, NLL, MLE, baseline, paper: NLL
//	NLL+S_MMD            #0072B2   mmd, NLL+S_MMD, + S_MMD, NLL+S_MMD (paper)
//	NLL+S_MMD (stable)   #56B4E9   NLL+S_MMD (stable), mmd (stable)
//	NLL+S_KL             #D55E00   kl, NLL+S_KL, NLL+S_KL (paper)
//	NLL+S_KL (stable)    #E69F00   NLL+S_KL (stable)
//	NLL+I_Was            #CC79A7   was, NLL+I_Was
//	+L_L2                #117733   mmd[l2], kl[l2], + L_L2
//	+L_L2 (stable)       #44AA99
//	+L_d/MMD             #332288   mmd[d], + L_d/MMD
//	+L_d/MMD (stable)    #88CCEE
//	+L_d/KL              #882255   kl[d], + L_d/KL
//	+L_d/KL (stable)     #CC6677
//	+L_κ                 #999933   mmd[kappa], kl[kappa], + L_κ
//	+L_κ (stable)        #DDCC77
//
// Series that are not training settings (samples, estimators, modalities, train/valid) take the
// colours of otherColors in order, skipping the colours of the settings in the same figure.
var settingColors = map[string]color.RGBA{
	"NLL":                rgb(0x555555),
	"NLL+S_MMD":          rgb(0x0072B2),
	"NLL+S_MMD (stable)": rgb(0x56B4E9),
	"NLL+S_KL":           rgb(0xD55E00),
	"NLL+S_KL (stable)":  rgb(0xE69F00),
	"NLL+I_Was":          rgb(0xCC79A7),
	"+L_L2":              rgb(0x117733),
	"+L_L2 (stable)":     rgb(0x44AA99),
	"+L_d/MMD":           rgb(0x332288),
	"+L_d/MMD (stable)":  rgb(0x88CCEE),
	"+L_d/KL":            rgb(0x882255),
	"+L_d/KL (stable)":   rgb(0xCC6677),
	"+L_κ":               rgb(0x999933),
	"+L_κ (stable)":      rgb(0xDDCC77),
}

// otherColors colour the series that are not training settings, in order (Okabe & Ito).
var otherColors = []color.RGBA{
	rgb(0x0072B2), rgb(0xD55E00), rgb(0x009E73), rgb(0xCC79A7), rgb(0xE69F00),
	rgb(0x56B4E9), rgb(0x000000), rgb(0x999933), rgb(0x882255), rgb(0x332288),
}

// dashPatterns tell apart series of one figure that share a colour (the same setting twice, e.g.
// the paper's number and ours); the first keeps a solid line.
var dashPatterns = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
}

func rgb(hex uint32) color.RGBA {
	return color.RGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

var (
	// qualifier is a parenthesised note after a name: "(3 seeds)", "(stable)", "(paper)".
	qualifier = regexp.MustCompile(`\(([^()]*)\)`)
	// stableWord marks the stable variant outside parentheses too ("mmd/stable", "mmd stable").
	stableWord = regexp.MustCompile(`(^|[^a-z])stable([^a-z]|$)`)
	// squash removes what the paper's and synergo's spellings of a setting differ in.
	squash = strings.NewReplacer(" ", "", "\t", "", "_", "", "{", "", "}", "", "$", "", `\mathcal`, "",
		`\kappa`, "κ", "kappa", "κ", "-", "")
)

// settingMethods maps a squashed, lower-case setting name (without variant, source or seed
// count) to its key.
var settingMethods = map[string]string{
	"none": "NLL", "nll": "NLL", "mle": "NLL", "baseline": "NLL",
	"mmd": "NLL+S_MMD", "smmd": "NLL+S_MMD", "+smmd": "NLL+S_MMD", "nll+smmd": "NLL+S_MMD", "mmd[l2,d,κ]": "NLL+S_MMD",
	"kl": "NLL+S_KL", "skl": "NLL+S_KL", "+skl": "NLL+S_KL", "nll+skl": "NLL+S_KL", "kl[l2,d,κ]": "NLL+S_KL",
	"was": "NLL+I_Was", "iwas": "NLL+I_Was", "+iwas": "NLL+I_Was", "nll+iwas": "NLL+I_Was",
	"mmd[l2]": "+L_L2", "kl[l2]": "+L_L2", "+ll2": "+L_L2", "ll2": "+L_L2", "nll+ll2": "+L_L2",
	"mmd[d]": "+L_d/MMD", "+ld/mmd": "+L_d/MMD", "ld/mmd": "+L_d/MMD", "nll+ld/mmd": "+L_d/MMD", "+ld": "+L_d/MMD",
	"kl[d]": "+L_d/KL", "+ld/kl": "+L_d/KL", "ld/kl": "+L_d/KL", "nll+ld/kl": "+L_d/KL",
	"mmd[κ]": "+L_κ", "kl[κ]": "+L_κ", "+lκ": "+L_κ", "lκ": "+L_κ", "nll+lκ": "+L_κ",
}

// SettingKey returns the key of the training setting a series name denotes (see the table
// above), and false when the name is not a training setting. It ignores case, spaces and
// underscores, a source prefix ("paper:", "ours:") and parenthesised notes such as a seed count;
// "stable" in a note or as a word selects the stable variant of a regularizer ("(paper)" or no
// note: the paper's variant). For example "paper: NLL+S_MMD", "mmd (3 seeds)" and
// "NLL+S_MMD (paper)" all give "NLL+S_MMD"; "mmd (stable) (3 seeds)" gives "NLL+S_MMD (stable)".
func SettingKey(name string) (string, bool) {
	s := strings.ToLower(strings.TrimSpace(name))
	for _, prefix := range []string{"paper:", "ours:"} {
		s = strings.TrimSpace(strings.TrimPrefix(s, prefix))
	}
	stable := false
	s = qualifier.ReplaceAllStringFunc(s, func(q string) string {
		if stableWord.MatchString(q) {
			stable = true
		}
		return ""
	})
	if stableWord.MatchString(s) {
		stable = true
		s = stableWord.ReplaceAllString(s, "$1$2")
	}
	s = strings.TrimRight(squash.Replace(s), "/,;:")
	key, ok := settingMethods[s]
	if !ok {
		return "", false
	}
	if stable && key != "NLL" && key != "NLL+I_Was" {
		key += " (stable)"
	}
	return key, true
}

// SettingColor returns the colour every viz figure gives the training setting called name
// (SettingKey), and false when name is not a training setting.
func SettingColor(name string) (color.Color, bool) {
	key, ok := SettingKey(name)
	if !ok {
		return nil, false
	}
	return settingColors[key], true
}

// seriesStyle is how one series of a figure is drawn.
type seriesStyle struct {
	color  color.RGBA
	shape  draw.GlyphDrawer
	dashes []vg.Length
	// repeat counts the earlier series of the figure with the same colour.
	repeat int
}

// seriesStyles returns the styles of a figure's series, given their names: a training setting
// gets its own colour (SettingKey), any other series the next colour of otherColors not taken by
// a setting of the figure; a colour's marker is fixed, and a repeated colour gets a dash pattern.
func seriesStyles(names []string) []seriesStyle {
	styles := make([]seriesStyle, len(names))
	taken := map[color.RGBA]bool{}
	isSetting := make([]bool, len(names))
	for i, n := range names {
		if key, ok := SettingKey(n); ok {
			styles[i].color = settingColors[key]
			taken[styles[i].color] = true
			isSetting[i] = true
		}
	}
	next := 0
	for i := range names {
		if isSetting[i] {
			continue
		}
		for k := 0; k < len(otherColors); k++ {
			c := otherColors[(next+k)%len(otherColors)]
			if !taken[c] || k == len(otherColors)-1 {
				styles[i].color = c
				next = (next + k + 1) % len(otherColors)
				break
			}
		}
	}
	seen := map[color.RGBA]int{}
	for i := range styles {
		c := styles[i].color
		styles[i].repeat = seen[c]
		seen[c]++
		styles[i].shape = markerShapes[(colorIndex(c)+styles[i].repeat)%len(markerShapes)]
		styles[i].dashes = dashPatterns[styles[i].repeat%len(dashPatterns)]
	}
	return styles
}

// colorIndex is a small number fixed per colour (its position in the settings' table, then in
// otherColors), so that a colour always comes with the same marker.
func colorIndex(c color.RGBA) int {
	keys := settingKeys()
	for i, key := range keys {
		if settingColors[key] == c {
			return i
		}
	}
	for i, o := range otherColors {
		if o == c {
			return len(keys) + i
		}
	}
	return 0
}

// settingKeys lists the keys of settingColors in the order of the table above.
func settingKeys() []string {
	return []string{"NLL", "NLL+S_MMD", "NLL+S_MMD (stable)", "NLL+S_KL", "NLL+S_KL (stable)", "NLL+I_Was",
		"+L_L2", "+L_L2 (stable)", "+L_d/MMD", "+L_d/MMD (stable)", "+L_d/KL", "+L_d/KL (stable)", "+L_κ", "+L_κ (stable)"}
}
