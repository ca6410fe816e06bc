package datasets

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/synergo/synergo/datasets/pickle"
)

// Sniffing shared by the pickle formats (mmsa-pickle, mult-pickle,
// magbert-pickle).

// sniffPickleFlavour returns the Sniff function of the pickle format whose
// layout pickleFlavour names flavour ("mmsa", "mult" or "magbert").
func sniffPickleFlavour(flavour string) func(path string, head []byte) bool {
	return func(path string, head []byte) bool {
		return looksLikePickle(head) && pickleFlavour(path) == flavour
	}
}

// explainPickle says why path, named *.pkl or *.pickle or starting like a
// pickle, is none of the pickle layouts synergo reads; nil for other files.
func explainPickle(path string, head []byte) error {
	ext := strings.ToLower(filepath.Ext(path))
	if !looksLikePickle(head) && ext != ".pkl" && ext != ".pickle" {
		return nil
	}
	return fmt.Errorf("datasets: %s: a pickle in none of the layouts synergo reads: mmsa-pickle {train, valid, test → dict with regression_labels, text, audio, vision, …}, "+
		"mult-pickle {train, valid, test → dict with labels, text, audio, vision}, magbert-pickle {train, dev, test → list of samples} "+
		"(a truncated file, or a UR-FUNNY pickle: give its folder instead)", path)
}

// looksLikePickle reports whether head starts like a pickle: a PROTO opcode
// (protocol 2 and later) or a protocol 0/1 dict.
func looksLikePickle(head []byte) bool {
	if len(head) < 2 {
		return false
	}
	switch head[0] {
	case 0x80:
		return head[1] >= 2 && head[1] <= 5
	case '(', '}':
		return true
	}
	return false
}

// pickleFlavour tells the three dict-of-splits pickle layouts apart,
// scanning the opcode stream without decoding it. The container that
// follows the key "train" decides the layout: a dict (or OrderedDict) per
// split means MMSA or MulT, a list per split means MAG-BERT (whose split
// names are train/dev/test). Among dict layouts, MMSA has keys such as
// regression_labels, text_bert or raw_text, MulT has labels. It returns
// "mmsa", "mult", "magbert" or "".
func pickleFlavour(path string) string {
	mmsaKeys := map[string]bool{"raw_text": true, "text_bert": true, "regression_labels": true,
		"classification_labels": true, "annotations": true, "audio_lengths": true, "vision_lengths": true}
	const (
		seekTrain  = iota // before the key "train"
		afterTrain        // between "train" and its container
		afterMark         // protocol 0/1: '(' seen, 'd' or 'l' decides
		inDict
		inList
	)
	state, kind := seekTrain, ""
	_ = pickle.ScanEvents(path, 32, func(ev pickle.Event) bool {
		switch state {
		case seekTrain:
			if ev.IsString && ev.Str == "train" {
				state = afterTrain
			}
			return true
		case afterTrain, afterMark:
			switch {
			case ev.Op == 0x94 || ev.Op == 'q' || ev.Op == 'r' || ev.Op == 'p': // memo bookkeeping
			case ev.IsString && (ev.Str == "collections" || ev.Str == "OrderedDict"):
			case ev.Op == 0x93 || (ev.Op == 'c' && ev.Str == "collections OrderedDict"), ev.Op == '}', ev.Op == 'd':
				state = inDict
			case ev.Op == ']', ev.Op == 'l':
				state = inList
			case ev.Op == '(' && state == afterTrain:
				state = afterMark
			default:
				return false // an unknown layout
			}
			return true
		case inDict:
			switch {
			case ev.IsString && mmsaKeys[ev.Str]:
				kind = "mmsa"
			case ev.IsString && ev.Str == "labels":
				kind = "mult"
			default:
				return true
			}
			return false
		default: // inList
			if ev.IsString && ev.Str == "dev" {
				kind = "magbert"
				return false
			}
			return true
		}
	})
	return kind
}
