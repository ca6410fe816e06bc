package terms

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// The C-network's terms as chains of plain gorgonia nodes, the way the
// regularizer built them before the fused ops of this package. Tests
// compare the fused ops with them, value and gradient.

// standardizeNode returns (z − mean)/√(var + 1e-5) per column of the
// (B, d) node z, with the batch mean and the biased batch variance.
func standardizeNode(g *nn.Graph, z *G.Node) *G.Node {
	d := z.Shape()[1]
	mean := G.Must(G.Reshape(G.Must(G.Mean(z, 0)), tensor.Shape{1, d}))
	c := G.Must(G.BroadcastSub(z, mean, nil, []byte{0}))
	v := G.Must(G.Mean(G.Must(G.Square(c)), 0))
	sd := G.Must(G.Reshape(G.Must(G.Sqrt(G.Must(G.Add(v, g.Scalar(1e-5))))), tensor.Shape{1, d}))
	return G.Must(G.BroadcastHadamardDiv(c, sd, nil, []byte{0}))
}

// relativeThreshold returns factor·rms, rms the root-mean-square row norm
// of d.
func relativeThreshold(g *nn.Graph, d *G.Node, factor float64) *G.Node {
	sq := G.Must(G.Sum(G.Must(G.Square(d)), 1))
	rms := G.Must(G.Sqrt(G.Must(G.Add(G.Must(G.Mean(sq)), g.Scalar(1e-12)))))
	return G.Must(G.Mul(rms, g.Scalar(factor)))
}

// clipRows scales each row of the centered matrix d to norm at most thr.
// The scale is min(1, thr/‖d_j‖) written as 2/(1 + r + |1 − r|),
// r = ‖d_j‖/thr, which gorgonia can differentiate.
func clipRows(g *nn.Graph, d, thr *G.Node) *G.Node {
	B := d.Shape()[0]
	sq := G.Must(G.Sum(G.Must(G.Square(d)), 1))
	norms := G.Must(G.Sqrt(G.Must(G.Add(sq, g.Scalar(1e-12)))))
	ratio := G.Must(G.Div(norms, thr))
	one := g.Scalar(1)
	den := G.Must(G.Add(G.Must(G.Add(one, ratio)), G.Must(G.Abs(G.Must(G.Sub(one, ratio))))))
	scale := G.Must(G.Div(g.Scalar(2), den))
	return G.Must(G.BroadcastHadamardProd(d, G.Must(G.Reshape(scale, tensor.Shape{B, 1})), nil, []byte{1}))
}

// kurtosisNode is (1/B) Σ_j (d_jᵀ (S_t + cI)⁻¹ d_j)², see MardiaKurtosis.
func kurtosisNode(g *nn.Graph, z, prev, alpha *G.Node, cfg KurtosisOptions) (*G.Node, error) {
	B, p := z.Shape()[0], z.Shape()[1]
	mean := G.Must(G.Reshape(G.Must(G.Mean(z, 0)), tensor.Shape{1, p}))
	d := G.Must(G.BroadcastSub(z, mean, nil, []byte{0}))
	dc := d
	switch {
	case cfg.ClipFactor > 0:
		dc = clipRows(g, d, relativeThreshold(g, d, cfg.ClipFactor))
	case cfg.ClipNorm > 0:
		dc = clipRows(g, d, g.Scalar(cfg.ClipNorm))
	}
	batchCov := G.Must(G.Mul(G.Must(G.Mul(G.Must(G.Transpose(dc)), dc)), g.Scalar(1/float64(B))))
	oneMinus := G.Must(G.Sub(g.Scalar(1), alpha))
	if cfg.SumEMA {
		oneMinus = g.Scalar(1)
	}
	eye := make([]float64, p*p)
	for i := 0; i < p; i++ {
		eye[i*p+i] = 1
	}
	identity := g.Constant(eye, p, p)
	prevWeight := alpha
	if cfg.ScaleMatchedEMA {
		// α·tr(Ŝ)/tr(S_{t−1}); S_{t−1} = 0 before the first update, where
		// α = 0 and the product vanishes.
		trBatch := G.Must(G.Sum(G.Must(G.HadamardProd(batchCov, identity))))
		trPrev := G.Must(G.Add(G.Must(G.Sum(G.Must(G.HadamardProd(prev, identity)))), g.Scalar(1e-12)))
		prevWeight = G.Must(G.Mul(alpha, G.Must(G.Div(trBatch, trPrev))))
	}
	cov := G.Must(G.Add(G.Must(G.Mul(prev, prevWeight)), G.Must(G.Mul(batchCov, oneMinus))))
	trace := G.Must(G.Sum(G.Must(G.HadamardProd(cov, identity))))
	load := G.Must(G.Add(G.Must(G.Mul(trace, g.Scalar(cfg.DiagLoad/float64(p)))), g.Scalar(1e-8)))
	if cfg.DiagLoadAbsolute > 0 {
		load = g.Scalar(cfg.DiagLoadAbsolute)
	}
	prec, err := nn.InverseSPD(G.Must(G.Add(cov, G.Must(G.Mul(identity, load)))))
	if err != nil {
		return nil, err
	}
	dk := d
	if cfg.ClipInKurtosis {
		dk = dc
	}
	m := G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(G.Mul(dk, prec)), dk)), 1))
	return G.Mean(G.Must(G.Square(m)))
}

// mmd2Node is the squared MMD between the rows of x and y (both B×k) with
// k(a,b) = Σ_s exp(−‖a−b‖²·inv_s), inv_s = 1/(2σ_s²): biased
// mean Kxx + mean Kyy − 2 mean Kxy, or unbiased without the diagonals of Kxx
// and Kyy, or with o.Sum the sums instead of the means. It is computed on
// the pooled 2B×2B kernel matrix weighted by a constant matrix, so one
// graph serves every estimator.
func mmd2Node(g *nn.Graph, x, y *G.Node, inv []*G.Node, o MMDOptions) (*G.Node, error) {
	B := x.Shape()[0]
	w := G.Must(G.Concat(0, x, y))
	sq := G.Must(G.Sum(G.Must(G.Square(w)), 1))
	col := G.Must(G.Reshape(sq, tensor.Shape{2 * B, 1}))
	row := G.Must(G.Reshape(sq, tensor.Shape{1, 2 * B}))
	gram := G.Must(G.Mul(w, G.Must(G.Transpose(w))))
	dist := G.Must(G.Sub(G.Must(G.BroadcastAdd(col, row, []byte{1}, []byte{0})), G.Must(G.Mul(gram, g.Scalar(2)))))
	var kern *G.Node
	for _, c := range inv {
		k := G.Must(G.Exp(G.Must(G.Neg(G.Must(G.Mul(dist, c))))))
		if kern == nil {
			kern = k
		} else {
			kern = G.Must(G.Add(kern, k))
		}
	}
	weights := make([]float64, 4*B*B)
	same, cross := 1/float64(B*B), -1/float64(B*B)
	if o.Unbiased {
		same = 1 / float64(B*(B-1))
	}
	if o.Sum {
		same, cross = 1, -1
	}
	for i := 0; i < 2*B; i++ {
		for j := 0; j < 2*B; j++ {
			switch {
			case (i < B) != (j < B):
				weights[i*2*B+j] = cross
			case o.Unbiased && i == j:
				weights[i*2*B+j] = 0
			default:
				weights[i*2*B+j] = same
			}
		}
	}
	return G.Sum(G.Must(G.HadamardProd(kern, g.Constant(weights, 2*B, 2*B))))
}
