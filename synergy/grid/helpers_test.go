package grid

import (
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/testmodel"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/train"
)

// tinyMOSI is the synthetic MOSI preset at a small scale.
func tinyMOSI(t testing.TB, scale float64) *datasets.Dataset { return testmodel.MOSI(t, scale) }

// countingFactory builds pool models (testmodel.Pool) and counts how many
// it built.
func countingFactory(n *atomic.Int64) train.ModelFactory {
	return func(ds *datasets.Dataset, seed uint64) (models.Model, error) {
		n.Add(1)
		return testmodel.NewPool(train.DimsOf(ds), seed), nil
	}
}

// tinyGrid is a grid of the pool model: none and mmd, one seed, 2 batch
// sizes × 2 learning rates, 2 epochs.
func tinyGrid(out string, built *atomic.Int64) Options {
	base := train.Options{NewModel: countingFactory(built), MaxEpochs: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return Options{
		Models: []string{"pool"}, Regs: []string{"none", "mmd"}, RegBase: testmodel.SmallRegularizer(),
		Seeds: []uint64{1111}, BatchSizes: []int{16, 32}, LearningRates: []float64{5e-3, 1e-3},
		Out: out, Base: base,
	}
}

// afterBatch returns a train.Options.OnProgress that calls f after every
// step of the main stage with the epoch and the index of the batch just
// done (both from 0).
func afterBatch(f func(epoch, batch int)) func(train.Event) {
	return func(e train.Event) {
		if e.Kind == train.StepDone && e.Stage == "" {
			f(e.Epoch-1, e.Step-1)
		}
	}
}

// stripWall blanks the "wall_seconds" values of JSON lines.
func stripWall(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if i := strings.Index(line, `"wall_seconds":`); i >= 0 {
			j := i + len(`"wall_seconds":`)
			k := strings.IndexAny(line[j:], ",}")
			line = line[:j] + "0" + line[j+k:]
		}
		b.WriteString(line)
	}
	return b.String()
}
