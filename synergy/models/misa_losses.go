package models

import (
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
)

// cmdMoments is K of MISA's central moment discrepancy (solver.py: 5).
const cmdMoments = 5

// centralMomentDiscrepancy is CMD (Zellinger et al. 2017) as MISA computes
// it (utils/functions.py CMD, without the range normalization) for x, y
// (B, d):
//
//	CMD(x, y) = ‖E x − E y‖₂ + Σ_{k=2..K} ‖E (x − E x)^k − E (y − E y)^k‖₂
//
// with expectations over the batch.
func centralMomentDiscrepancy(x, y *G.Node, moments int) (*G.Node, error) {
	mx, err := G.Mean(x, 0)
	if err != nil {
		return nil, err
	}
	my, err := G.Mean(y, 0)
	if err != nil {
		return nil, err
	}
	total, err := euclideanDistance(mx, my)
	if err != nil {
		return nil, err
	}
	cx, err := G.BroadcastSub(x, mx, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	cy, err := G.BroadcastSub(y, my, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	px, py := cx, cy
	for k := 2; k <= moments; k++ {
		if px, err = G.HadamardProd(px, cx); err != nil {
			return nil, err
		}
		if py, err = G.HadamardProd(py, cy); err != nil {
			return nil, err
		}
		sx, err := G.Mean(px, 0)
		if err != nil {
			return nil, err
		}
		sy, err := G.Mean(py, 0)
		if err != nil {
			return nil, err
		}
		d, err := euclideanDistance(sx, sy)
		if err != nil {
			return nil, err
		}
		if total, err = G.Add(total, d); err != nil {
			return nil, err
		}
	}
	return total, nil
}

// euclideanDistance returns ‖a − b‖₂ = (Σ (a − b)²)^½ (MISA's matchnorm).
func euclideanDistance(a, b *G.Node) (*G.Node, error) {
	d, err := G.Sub(a, b)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(sq)
	if err != nil {
		return nil, err
	}
	return G.Sqrt(s)
}

// softOrthogonality is MISA's DiffLoss for x, y (B, d): with the batch-
// centred rows divided by their L2 norms plus 1e−6 (the norms detached from
// the gradient, as in the original),
//
//	L_diff(x, y) = mean_{jk} ((X̃ᵀ Ỹ)_{jk})².
func softOrthogonality(g *nn.Graph, x, y *G.Node) (*G.Node, error) {
	xn, err := centredUnitRows(g, x)
	if err != nil {
		return nil, err
	}
	yn, err := centredUnitRows(g, y)
	if err != nil {
		return nil, err
	}
	xt, err := G.Transpose(xn)
	if err != nil {
		return nil, err
	}
	c, err := G.Mul(xt, yn)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(c)
	if err != nil {
		return nil, err
	}
	return G.Mean(sq)
}

// centredUnitRows returns (x − mean_rows x) / (stop(‖row‖₂) + 1e−6).
func centredUnitRows(g *nn.Graph, x *G.Node) (*G.Node, error) {
	m, err := G.Mean(x, 0)
	if err != nil {
		return nil, err
	}
	c, err := G.BroadcastSub(x, m, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(c)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(sq, 1)
	if err != nil {
		return nil, err
	}
	norm, err := G.Sqrt(s)
	if err != nil {
		return nil, err
	}
	if norm, err = nn.StopGradient(norm); err != nil {
		return nil, err
	}
	if norm, err = G.Add(norm, g.Scalar(1e-6)); err != nil {
		return nil, err
	}
	return G.BroadcastHadamardDiv(c, norm, nil, []byte{1})
}

// meanSquaredError returns Σ (a − b)² / numel (MISA's MSE).
func meanSquaredError(a, b *G.Node) (*G.Node, error) {
	d, err := G.Sub(a, b)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	return G.Mean(sq)
}
