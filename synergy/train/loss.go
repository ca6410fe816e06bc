package train

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
)

// Loss names a task loss.
type Loss string

const (
	// LossL1 is the mean absolute error (1/B) Σ_j |ŷ_j − y_j|, MMSA's loss
	// for TFN, LMF, MFN, EF-LSTM, BERT_MAG and MMIM (nn.L1Loss in
	// thuiar/MMSA).
	LossL1 Loss = "l1"
	// LossMSE is the mean squared error (1/B) Σ_j (ŷ_j − y_j)², the least
	// squares of the paper's appendix D (Algorithm 1) and the loss of
	// MISA's and MAG-BERT's original code. Default for regression.
	LossMSE Loss = "mse"
	// LossBCE is the binary cross-entropy with logits,
	// (1/B) Σ_j [max(s_j, 0) − s_j y_j + log(1 + exp(−|s_j|))], the
	// numerically stable form of −y log σ(s) − (1−y) log(1−σ(s)). It is the
	// loss of every Binary task.
	LossBCE Loss = "bce"
)

// ParseLoss maps "l1"/"mae", "mse"/"l2" and "bce" to a Loss, and "" to ""
// (the task's default: LossMSE for regression, LossBCE for binary tasks).
func ParseLoss(s string) (Loss, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "l1", "mae":
		return LossL1, nil
	case "mse", "l2":
		return LossMSE, nil
	case "bce":
		return LossBCE, nil
	}
	return "", fmt.Errorf("train: unknown loss %q (want l1, mse or bce)", s)
}

// lossFor returns the loss used for task: BCE for Binary, otherwise the
// requested regression loss (least squares when empty, appendix D).
func lossFor(task datasets.Task, requested Loss) (Loss, error) {
	if task == datasets.Binary {
		if requested != "" && requested != LossBCE {
			return "", fmt.Errorf("train: loss %q is a regression loss; binary tasks use bce", requested)
		}
		return LossBCE, nil
	}
	if requested == LossBCE {
		return "", fmt.Errorf("train: loss bce needs a binary task, the data is regression")
	}
	if requested == "" {
		return LossMSE, nil
	}
	return requested, nil
}

// TaskLoss adds the scalar loss between the predictions pred (shape (B)) and
// the targets target (shape (B)) to g.
func TaskLoss(g *nn.Graph, loss Loss, pred, target *G.Node) (*G.Node, error) {
	if !pred.Shape().Eq(target.Shape()) || pred.Dims() != 1 {
		return nil, fmt.Errorf("train: prediction shape %v and target shape %v, want equal vectors (B)", pred.Shape(), target.Shape())
	}
	diff, err := G.Sub(pred, target)
	if err != nil {
		return nil, err
	}
	switch loss {
	case LossL1:
		return G.Mean(G.Must(G.Abs(diff)))
	case LossMSE:
		return G.Mean(G.Must(G.Square(diff)))
	case LossBCE:
		pos := G.Must(G.Rectify(pred))
		lin := G.Must(G.HadamardProd(pred, target))
		soft := G.Must(G.Log1p(G.Must(G.Exp(G.Must(G.Neg(G.Must(G.Abs(pred))))))))
		return G.Mean(G.Must(G.Add(G.Must(G.Sub(pos, lin)), soft)))
	}
	return nil, fmt.Errorf("train: unknown loss %q", loss)
}
