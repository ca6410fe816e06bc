package bert

import "unicode/utf8"

// DefaultMaxCharsPerWord is Hugging Face's max_input_chars_per_word: a
// longer word becomes [UNK] (Google's original tokenization.py used 200).
const DefaultMaxCharsPerWord = 100

// wordPiece splits one basic token into vocabulary pieces by greedy
// longest-match-first: from the current start, take the longest prefix of
// the remaining characters that is in the vocabulary ("##"-prefixed after
// the first piece). If some position has no match, or the word has more
// than maxChars characters, the whole word becomes [UNK].
func wordPiece(word string, v *Vocab, maxChars int) []string {
	if utf8.RuneCountInString(word) > maxChars {
		return []string{UnkToken}
	}
	var pieces []string
	start := 0
	for start < len(word) {
		end := len(word)
		found := ""
		for end > start {
			sub := word[start:end]
			if start > 0 {
				sub = "##" + sub
			}
			if _, ok := v.ids[sub]; ok {
				found = sub
				break
			}
			// Step back one character (not one byte).
			_, size := utf8.DecodeLastRuneInString(word[start:end])
			end -= size
		}
		if found == "" {
			return []string{UnkToken}
		}
		pieces = append(pieces, found)
		start = end
	}
	return pieces
}
