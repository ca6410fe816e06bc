package datasets

import (
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets/pickle"
)

func TestMulTIDs(t *testing.T) {
	c := pklCtx{file: "mosi_data.pkl", split: "train"}
	for _, tc := range []struct {
		name string
		v    any
		want []string // nil: an error naming the key is expected
	}{
		{"(N, 3) triplets", &pickle.NDArray{Shape: []int{2, 3}, Strings: []string{"a", "1.5", "2", "b", "", ""}},
			[]string{"a[1.5,2]", "b"}},
		{"(N,)", &pickle.NDArray{Shape: []int{2}, Strings: []string{"a_1", "b_2"}}, []string{"a_1", "b_2"}},
		// Used to panic: a (N, 0) array holds no strings for the first field.
		{"(N, 0)", &pickle.NDArray{Shape: []int{2, 0}, Strings: []string{}}, nil},
		{"wrong N", &pickle.NDArray{Shape: []int{3}, Strings: []string{"a", "b", "c"}}, nil},
		{"numbers", &pickle.NDArray{Shape: []int{2}, Float64: []float64{1, 2}}, nil},
		{"a list", []any{"a", "b"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.multIDs(tc.v, 2)
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), "key id") {
					t.Fatalf("ids %v, error %v; want an error naming key id", got, err)
				}
				return
			}
			if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("ids %q, error %v; want %q", got, err, tc.want)
			}
		})
	}
}
