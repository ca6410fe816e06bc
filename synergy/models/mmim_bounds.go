package models

import (
	"math/rand/v2"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mmilb is MMIM's lower bound network for one modality pair x → y
// (encoders.py MMILB): a Gaussian q(y|x) = N(μ(x), diag(exp(logσ²(x)))) with
// μ and logσ² two-layer ReLU MLPs (x_size → y_size → y_size; the configured
// last activation is not applied in the original's code), and the entropy
// projection Tanh(Linear(y_size, y_size/4)).
type mmilb struct {
	mu, logvar *nn.MLP
	entropy    *nn.Linear
}

func newMMILB(ps *nn.ParamSet, name string, xSize, ySize int, rng *rand.Rand) *mmilb {
	return &mmilb{
		mu:      nn.NewMLP(ps, name+".mlp_mu", []int{xSize, ySize, ySize}, nn.ReLU, rng),
		logvar:  nn.NewMLP(ps, name+".mlp_logvar", []int{xSize, ySize, ySize}, nn.ReLU, rng),
		entropy: nn.NewLinear(ps, name+".entropy_prj", ySize, max(1, ySize/4), true, rng),
	}
}

func (b *mmilb) params() []*nn.Param {
	out := append(b.mu.Params(), b.logvar.Params()...)
	return append(out, b.entropy.Params()...)
}

// logLikelihood returns MMIM's lld for x (B, d_x) and y (B, d_y):
//
//	lld = mean_b Σ_j −(μ(x)_bj − y_bj)² / (2 exp(logσ²(x)_bj)),
//
// the BA bound without its log-variance term, as in the original.
func (b *mmilb) logLikelihood(g *nn.Graph, x, y *G.Node) (*G.Node, error) {
	mu, err := b.mu.Forward(g, x)
	if err != nil {
		return nil, err
	}
	lv, err := b.logvar.Forward(g, x)
	if err != nil {
		return nil, err
	}
	d, err := G.Sub(mu, y)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	v, err := G.Exp(lv)
	if err != nil {
		return nil, err
	}
	if v, err = G.Mul(v, g.Scalar(2)); err != nil {
		return nil, err
	}
	r, err := G.HadamardDiv(sq, v)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(r, 1)
	if err != nil {
		return nil, err
	}
	m, err := G.Mean(s)
	if err != nil {
		return nil, err
	}
	return G.Neg(m)
}

// project returns Tanh(W y + b) (B, d_y/4), the samples of the entropy
// estimate.
func (b *mmilb) project(g *nn.Graph, y *G.Node) (*G.Node, error) {
	p, err := b.entropy.Forward(g, y)
	if err != nil {
		return nil, err
	}
	return G.Tanh(p)
}

// classEntropy returns ¼ log det Σ_w of the weighted covariance
//
//	μ = Σ_j w_j y_j,   Σ_w = Σ_j w_j (y_j − μ)(y_j − μ)ᵀ
//
// of the rows of y (n, k) with weights w (n) (1/n_c for the n_c members of
// the class, 0 otherwise; sqrtW holds √w): MMIM's per-class term, so that
// H = ¼ (log det Σ₊ + log det Σ₋) is the sum of two of them. The factor ¼
// is the release's (declare-lab/Multimodal-Infomax, MMILB.forward:
// H = 0.25·(logdet(σ_pos) + logdet(σ_neg))), not the ½ of a Gaussian's
// entropy.
func classEntropy(y, w, sqrtW *G.Node) (*G.Node, error) {
	n, k := y.Shape()[0], y.Shape()[1]
	wr, err := G.Reshape(w, tensor.Shape{1, n})
	if err != nil {
		return nil, err
	}
	mu, err := G.Mul(wr, y) // (1, k)
	if err != nil {
		return nil, err
	}
	if mu, err = G.Reshape(mu, tensor.Shape{k}); err != nil {
		return nil, err
	}
	c, err := G.BroadcastSub(y, mu, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	cw, err := G.BroadcastHadamardProd(c, sqrtW, nil, []byte{1})
	if err != nil {
		return nil, err
	}
	cwt, err := G.Transpose(cw)
	if err != nil {
		return nil, err
	}
	cov, err := G.Mul(cwt, cw)
	if err != nil {
		return nil, err
	}
	ld, err := logDetSPD(cov)
	if err != nil {
		return nil, err
	}
	return G.Mul(ld, scalarLikeNode(ld, 0.25))
}

// scalarLikeNode returns a scalar constant with the dtype of x.
func scalarLikeNode(x *G.Node, v float64) *G.Node {
	if x.Dtype() == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// cpc is MMIM's CPC bound from the fusion Z to one modality x
// (encoders.py CPC with cpc_layers = 1): x̂ = W Z + b, both x̂ and x
// normalized to unit rows, and
//
//	NCE = −mean_i (x_i·x̂_i − log Σ_j exp(x_i·x̂_j)).
type cpc struct{ net *nn.Linear }

func newCPC(ps *nn.ParamSet, name string, xSize, zSize int, rng *rand.Rand) *cpc {
	return &cpc{net: nn.NewLinear(ps, name+".net", zSize, xSize, true, rng)}
}

func (c *cpc) nce(g *nn.Graph, x, z *G.Node) (*G.Node, error) {
	pred, err := c.net.Forward(g, z)
	if err != nil {
		return nil, err
	}
	if pred, err = unitRows(pred); err != nil {
		return nil, err
	}
	xn, err := unitRows(x)
	if err != nil {
		return nil, err
	}
	prod, err := G.HadamardProd(xn, pred)
	if err != nil {
		return nil, err
	}
	pos, err := G.Sum(prod, 1)
	if err != nil {
		return nil, err
	}
	pt, err := G.Transpose(pred)
	if err != nil {
		return nil, err
	}
	scores, err := G.Mul(xn, pt)
	if err != nil {
		return nil, err
	}
	neg, err := nn.LogSumExp(scores, 1)
	if err != nil {
		return nil, err
	}
	d, err := G.Sub(pos, neg)
	if err != nil {
		return nil, err
	}
	m, err := G.Mean(d)
	if err != nil {
		return nil, err
	}
	return G.Neg(m)
}

// unitRows returns x with each row divided by its L2 norm.
func unitRows(x *G.Node) (*G.Node, error) {
	sq, err := G.Square(x)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(sq, 1)
	if err != nil {
		return nil, err
	}
	n, err := G.Sqrt(s)
	if err != nil {
		return nil, err
	}
	return G.BroadcastHadamardDiv(x, n, nil, []byte{1})
}
