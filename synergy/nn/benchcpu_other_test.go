//go:build !unix

package nn

import (
	"testing"
	"time"
)

func processCPU() time.Duration { return 0 }

func reportCPUPerOp(*testing.B, time.Duration) {}
