package bert

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// basicTokenize is the uncased BasicTokenizer of Google's BERT
// tokenization.py (also Hugging Face's BertTokenizer with do_lower_case):
//
//  1. drop U+0000, U+FFFD and control characters (category C except tab,
//     newline, carriage return); map whitespace (space, tab, newline, CR and
//     category Zs) to a space;
//  2. surround CJK ideographs with spaces (each becomes a token);
//  3. split on whitespace; lower-case each piece (with Python's final-sigma
//     rule), strip accents (NFD, then drop category Mn);
//  4. split on punctuation (ASCII symbols and category P), each punctuation
//     character becoming a token.
func basicTokenize(text string) []string {
	text = tokenizeCJK(cleanText(text))
	var out []string
	for _, tok := range strings.Fields(text) {
		tok = stripAccents(lowerPython(tok))
		out = append(out, splitOnPunctuation(tok)...)
	}
	return out
}

// cleanText removes NUL, U+FFFD and control characters and maps whitespace
// to a plain space.
func cleanText(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		switch {
		case r == 0 || r == unicode.ReplacementChar || isControl(r):
		case isWhitespace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isWhitespace is BERT's _is_whitespace: space, tab, newline, CR or
// category Zs.
func isWhitespace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r)
}

// isControl is BERT's _is_control: a category starting with "C" (Cc, Cf,
// Co, Cs and, as in Python's unicodedata, unassigned code points Cn), except
// tab, newline and CR.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isPunctuation is BERT's _is_punctuation: the ASCII ranges 33–47, 58–64,
// 91–96, 123–126 (which include symbols such as $ and ^) or category P.
func isPunctuation(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.Is(unicode.P, r)
}

// isCJK reports whether r is in the CJK Unified Ideographs blocks that BERT
// treats as single-character words (_is_chinese_char).
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// tokenizeCJK puts a space before and after every CJK ideograph.
func tokenizeCJK(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if isCJK(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stripAccents decomposes text (NFD) and drops nonspacing marks (Mn).
func stripAccents(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range norm.NFD.String(text) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// splitOnPunctuation splits text into runs of non-punctuation characters
// and single punctuation characters.
func splitOnPunctuation(text string) []string {
	var out []string
	start := -1 // start of the current non-punctuation run
	for i, r := range text {
		if isPunctuation(r) {
			if start >= 0 {
				out = append(out, text[start:i])
				start = -1
			}
			out = append(out, string(r))
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, text[start:])
	}
	return out
}

// lowerPython lower-cases text like Python's str.lower: the simple
// lowercase mapping of each rune, except that capital sigma Σ becomes final
// ς when it ends a word (Unicode's Final_Sigma context: preceded by a cased
// letter and not followed by one, skipping case-ignorable characters). The
// one unconditional multi-rune mapping, İ → "i̇", differs from unicode.ToLower
// (İ → i) only by a combining dot that stripAccents removes anyway.
func lowerPython(text string) string {
	if !strings.ContainsRune(text, 'Σ') {
		return strings.ToLower(text)
	}
	rs := []rune(text)
	out := make([]rune, len(rs))
	for i, r := range rs {
		if r == 'Σ' && finalSigma(rs, i) {
			out[i] = 'ς'
		} else {
			out[i] = unicode.ToLower(r)
		}
	}
	return string(out)
}

// finalSigma reports whether rs[i] is in the Final_Sigma context.
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !isCased(rs[j])
}

// isCased approximates Unicode's Cased property: Lu, Ll, Lt, Other_Lowercase
// or Other_Uppercase.
func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable approximates Unicode's Case_Ignorable property: Mn, Me,
// Cf, Lm, Sk, and the word-break classes MidLetter, MidNumLet and
// Single_Quote.
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '·', 0x0387, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
