package datasets

import (
	"math"
	"math/rand/v2"
)

// labelDistribution draws the n labels of one split.
type labelDistribution func(n int, rng *rand.Rand) []float32

// CMU-MOSI Acc7 class counts (classes −3…+3 by round-half-even) of the real
// splits, computed from OpinionLevelSentiment.csv and the SDK folds
// (datasets.md §4).
var (
	mosiTrainClasses = [7]float64{24, 199, 227, 248, 227, 313, 46}
	mosiValidClasses = [7]float64{10, 30, 32, 49, 39, 50, 19}
	mosiTestClasses  = [7]float64{46, 156, 145, 106, 113, 100, 20}
)

// mosiLabels draws MOSI-like annotator means: a class c ∈ {−3,…,3} with the
// given counts as weights, then c + U − ½ (uniform on [c − ½, c + ½]), clamped to
// [−3, 3] and rounded to a grid of 0.2 for 90 % of the labels and to 0.25,
// 1/3 or 0.5 (equally likely) for the rest — the real labels are averages
// of annotator scores, 94 % of them multiples of 0.2.
func mosiLabels(classes [7]float64) labelDistribution {
	cdf := cumulative(classes[:])
	return func(n int, rng *rand.Rand) []float32 {
		y := make([]float32, n)
		for i := range y {
			c := float64(pick(cdf, rng) - 3)
			v := clamp(c+rng.Float64()-0.5, -3, 3)
			grid := 0.2
			if rng.Float64() < 0.1 {
				grid = [3]float64{0.25, 1.0 / 3, 0.5}[rng.IntN(3)]
			}
			y[i] = float32(clamp(math.Round(v/grid)*grid, -3, 3))
		}
		return y
	}
}

// CMU-MOSEI 7-bin counts of the real splits (s3prl rule: <−2, [−2,−1),
// [−1,0), 0, (0,1], (1,2], >2; datasets.md §4).
var (
	moseiTrainBins = [7]float64{613, 1584, 2542, 3538, 5289, 2256, 505}
	moseiTestBins  = [7]float64{156, 489, 705, 1025, 1512, 665, 110}
)

// moseiValidBins rescales the train bins to the valid split's published
// shares: 27.0 % negative, 23.1 % zero, 49.8 % positive.
func moseiValidBins() [7]float64 {
	t := moseiTrainBins
	neg := t[0] + t[1] + t[2]
	pos := t[4] + t[5] + t[6]
	var b [7]float64
	for k := 0; k < 3; k++ {
		b[k] = 27.0 * t[k] / neg
		b[k+4] = 49.8 * t[k+4] / pos
	}
	b[3] = 23.1
	return b
}

// moseiLabels draws MOSEI-like labels: a bin with the given counts as
// weights, then a multiple of 1/3 uniformly among the three in the bin
// (MOSEI labels are means of three annotators); the zero bin is exactly 0.
func moseiLabels(bins [7]float64) labelDistribution {
	cdf := cumulative(bins[:])
	// Bin k ≠ 3 holds the thirds j/3 for j in firstThird[k] … firstThird[k]+2.
	firstThird := [7]int{-9, -6, -3, 0, 1, 4, 7}
	return func(n int, rng *rand.Rand) []float32 {
		y := make([]float32, n)
		for i := range y {
			k := pick(cdf, rng)
			if k == 3 {
				continue
			}
			y[i] = float32(float64(firstThird[k]+rng.IntN(3)) / 3)
		}
		return y
	}
}

// binaryLabels returns exactly round(n·positive) ones among n 0/1 labels, in
// random order (UR-FUNNY folds are balanced: 50.1, 50.0 and 49.8 %
// positive).
func binaryLabels(positive float64) labelDistribution {
	return func(n int, rng *rand.Rand) []float32 {
		y := make([]float32, n)
		ones := int(math.Round(float64(n) * positive))
		for _, i := range rng.Perm(n)[:ones] {
			y[i] = 1
		}
		return y
	}
}

// cumulative returns the normalized cumulative sums of weights.
func cumulative(weights []float64) []float64 {
	cdf := make([]float64, len(weights))
	total := 0.0
	for _, w := range weights {
		total += w
	}
	acc := 0.0
	for k, w := range weights {
		acc += w
		cdf[k] = acc / total
	}
	cdf[len(cdf)-1] = 1
	return cdf
}

// pick draws an index from a cumulative distribution.
func pick(cdf []float64, rng *rand.Rand) int {
	u := rng.Float64()
	lo, hi := 0, len(cdf)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if u < cdf[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func clamp(v, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, v)) }
