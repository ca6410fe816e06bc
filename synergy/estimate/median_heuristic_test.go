package estimate

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// sortedMedianDistance is the median of the pairwise distances by sorting,
// as numpy.median computes it.
func sortedMedianDistance(data []float64, n, d int) float64 {
	var dist []float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var sq float64
			for t := 0; t < d; t++ {
				diff := data[i*d+t] - data[j*d+t]
				sq += diff * diff
			}
			dist = append(dist, math.Sqrt(sq))
		}
	}
	sort.Float64s(dist)
	k := len(dist)
	if k%2 == 1 {
		return dist[k/2]
	}
	return (dist[k/2-1] + dist[k/2]) / 2
}

// TestMedianHeuristicRowsEqualsSort checks the selection against a full
// sort, bit for bit, on continuous data and on data with many ties, for odd
// and even numbers of pairs.
func TestMedianHeuristicRowsEqualsSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{2, 3, 4, 5, 7, 16, 64} {
		for _, d := range []int{1, 3} {
			for _, ties := range []bool{false, true} {
				data := make([]float64, n*d)
				for i := range data {
					if ties {
						data[i] = float64(rng.IntN(3))
					} else {
						data[i] = rng.NormFloat64()
					}
				}
				want := sortedMedianDistance(data, n, d)
				work := make([]float64, n*(n-1)/2)
				got, err := MedianHeuristicRows(data, n, d, work)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("n=%d d=%d ties=%v: selection %v, sort %v", n, d, ties, got, want)
				}
				viaMatrix, err := MedianHeuristic(mat.NewDense(n, d, data), nil)
				if err != nil {
					t.Fatal(err)
				}
				if viaMatrix != want {
					t.Errorf("n=%d d=%d ties=%v: MedianHeuristic %v, sort %v", n, d, ties, viaMatrix, want)
				}
			}
		}
	}
}

func TestMedianHeuristicRowsErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    []float64
		n, d    int
		work    []float64
		wantErr bool
	}{
		{"one row", []float64{1, 2}, 1, 2, nil, true},
		{"short data", []float64{1, 2, 3}, 2, 2, nil, true},
		{"zero dimension", nil, 2, 0, nil, true},
		{"NaN", []float64{1, math.NaN()}, 2, 1, nil, true},
		{"short work", []float64{1, 2, 3}, 3, 1, make([]float64, 2), true},
		{"nil work allocates", []float64{1, 2, 4}, 3, 1, nil, false},
	} {
		_, err := MedianHeuristicRows(tc.data, tc.n, tc.d, tc.work)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestMedianHeuristicRowsAllocatesNothing(t *testing.T) {
	const n, d = 64, 16
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float64, n*d)
	for i := range data {
		data[i] = rng.NormFloat64()
	}
	work := make([]float64, n*(n-1)/2)
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := MedianHeuristicRows(data, n, d, work); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per call, want 0", allocs)
	}
}

// TestMedianOfSquaredDistancesMatches compares MedianOfSquaredDistances with
// MedianOfDistances of the square roots bit for bit: odd and even counts,
// ties (repeated values, values whose square roots round to the same
// number), zeros, a single value, and +Inf.
func TestMedianOfSquaredDistancesMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 3000; trial++ {
		n := 1 + rng.IntN(60)
		if trial%100 == 0 {
			n = 2016 + trial%2
		}
		sq := make([]float64, n)
		for i := range sq {
			switch rng.IntN(6) {
			case 0:
				sq[i] = 0
			case 1:
				sq[i] = float64(rng.IntN(4)) // ties
			case 2:
				sq[i] = math.Nextafter(2, math.Inf(rng.IntN(2)*2-1)) // √ of neighbours of 2 may tie
			case 3:
				if trial%7 == 0 {
					sq[i] = math.Inf(1)
					break
				}
				fallthrough
			default:
				sq[i] = rng.ExpFloat64() * math.Exp(rng.NormFloat64()*4)
			}
		}
		dist := make([]float64, n)
		for i, v := range sq {
			dist[i] = math.Sqrt(v)
		}
		want := MedianOfDistances(dist)
		got := MedianOfSquaredDistances(append([]float64(nil), sq...))
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d (n=%d): %v, MedianOfDistances of the roots %v", trial, n, got, want)
		}
	}
}
