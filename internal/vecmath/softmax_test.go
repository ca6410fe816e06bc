package vecmath

import (
	"math"
	"testing"
)

func TestSoftmax(t *testing.T) {
	x := []float64{1, 2, 3, -1000}
	Softmax(x)
	den := math.Exp(-2) + math.Exp(-1) + 1 + math.Exp(-1003)
	for j, want := range []float64{math.Exp(-2) / den, math.Exp(-1) / den, 1 / den, math.Exp(-1003) / den} {
		if math.Abs(x[j]-want) > 1e-15 {
			t.Errorf("float64 softmax[%d] = %v, want %v", j, x[j], want)
		}
	}
	y := []float32{1, 2, 3, -1000}
	Softmax(y)
	var sum float32
	for j, v := range y {
		if math.Abs(float64(v)-x[j]) > 1e-6 {
			t.Errorf("float32 softmax[%d] = %v, want %v", j, v, x[j])
		}
		sum += v
	}
	if math.Abs(float64(sum)-1) > 1e-6 {
		t.Errorf("float32 softmax sums to %v", sum)
	}
}
