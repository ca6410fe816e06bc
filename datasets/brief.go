package datasets

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/synergo/synergo/datasets/pickle"
)

// Error messages show decoded values in brief, never whole: a pickle
// memoizes containers, so a tuple holding the same tuple twice, nested n
// deep, takes O(n) bytes in the file and prints (fmt's %v) as 2^n leaves;
// and any string a file holds can be as long as the file. The helpers
// below bound what one value adds to a message.
const (
	// briefRunes is the most runes of a string a message quotes.
	briefRunes = 40
	// briefKeys is the most dict keys a message lists.
	briefKeys = 8
)

// quoteBrief quotes s (Go syntax), cut after briefRunes runes with the
// total length appended when longer.
func quoteBrief(s string) string {
	runes := 0
	for i := range s {
		if runes == briefRunes {
			return strconv.Quote(s[:i]) + fmt.Sprintf("… (%d bytes)", len(s))
		}
		runes++
	}
	return strconv.Quote(s)
}

// pyBrief describes a decoded pickle value in a bounded number of
// characters: a str or bytes by its quoted text (quoteBrief), a number by
// its value, a container by its type and size.
func pyBrief(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Int:
		return fmt.Sprintf("an int of %d bits", x.BitLen())
	case string:
		return quoteBrief(x)
	case []byte:
		return "b" + quoteBrief(string(x))
	case []any:
		return fmt.Sprintf("a list/tuple of %d", len(x))
	case *pickle.Dict:
		return fmt.Sprintf("a dict of %d keys", x.Len())
	case *pickle.NDArray:
		return fmt.Sprintf("a numpy array of shape %v", x.Shape)
	}
	return pyType(v)
}

// pyKeys summarises the keys of a decoded dict for an error message: their
// number and the first briefKeys of them in brief (pyBrief), e.g.
// `3 keys: "train", "valid", a list/tuple of 2`.
func pyKeys(keys []any) string {
	var b strings.Builder
	switch len(keys) {
	case 0:
		return "no keys"
	case 1:
		b.WriteString("1 key: ")
	default:
		fmt.Fprintf(&b, "%d keys: ", len(keys))
	}
	for i, k := range keys {
		if i == briefKeys {
			fmt.Fprintf(&b, ", … (%d more)", len(keys)-briefKeys)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyBrief(k))
	}
	return b.String()
}
