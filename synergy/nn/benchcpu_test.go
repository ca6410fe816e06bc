package nn

import (
	"testing"
	"time"

	"github.com/synergo/synergo/internal/cputime"
)

// reportCPUPerOp adds the metric cpu-ms/op: process CPU time since cpu0
// (cputime.Process) per iteration, steadier than wall time on a shared
// machine.
func reportCPUPerOp(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
