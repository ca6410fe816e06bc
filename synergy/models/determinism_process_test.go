package models

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"
)

// determinismChildEnv marks a child process of
// TestGradientsBitIdenticalAcrossProcesses.
const determinismChildEnv = "SYNERGO_MODELS_DETERMINISM_CHILD"

// TestGradientsBitIdenticalAcrossProcesses runs the test binary itself in
// several child processes (GOMAXPROCS=2); each builds the same float32
// EF-LSTM (per-time-step batch norm, a 5-feature audio modality), runs one
// forward and backward pass and two AdamW steps on a fixed batch, and prints
// a SHA-256 of every gradient and parameter. Child c first allocates c small
// objects (shiftHeap) so the children see different heap layouts. All
// children must print the same lines (issue #4: same seed → identical
// results, bit for bit).
// Before the fix about half the processes got different γ/β gradients,
// because a 5-entry constant's 16-byte alignment (which gonum's float32 dot
// kernel follows) depended on the process (see nn.BackingAlignment).
func TestGradientsBitIdenticalAcrossProcesses(t *testing.T) {
	if c := os.Getenv(determinismChildEnv); c != "" {
		shiftHeap(c)
		printTrainingHashes(t)
		return
	}
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	const children = 8
	var first string
	for c := 0; c < children; c++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestGradientsBitIdenticalAcrossProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", determinismChildEnv, c), "GOMAXPROCS=2")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %d: %v\n%s", c, err, out)
		}
		hashes := hashLines(out)
		if hashes == "" {
			t.Fatalf("child %d printed no hashes:\n%s", c, out)
		}
		if c == 0 {
			first = hashes
			continue
		}
		if hashes != first {
			t.Fatalf("child %d differs from child 0:\n%s", c, firstDifference(first, hashes))
		}
	}
}

// heapShift keeps shiftHeap's allocations alive.
var heapShift [][]float32

// shiftHeap allocates as many 20-byte float32 slices (Go's 24-byte size
// class, whose slots alternate between 16- and 8-byte alignment) as the
// child's number says, so that the children start the model with different
// heap layouts, as separate processes of a real run do by chance.
func shiftHeap(child string) {
	n, err := strconv.Atoi(child)
	if err != nil {
		panic(fmt.Sprintf("%s=%q, want an integer", determinismChildEnv, child))
	}
	for i := 0; i < n; i++ {
		heapShift = append(heapShift, make([]float32, 5))
	}
}

// printTrainingHashes is the child's work.
func printTrainingHashes(t *testing.T) {
	const batch = 32
	dims := Dims{T: [3]int{20, 20, 20}, D: [3]int{30, 5, 20}}
	m, err := NewEFLSTM(EFLSTMConfig{Hidden: 32, Layers: 2, Dropout: 0.2, TimeStepBatchNorm: true}, dims, tensor.Float32, 1111)
	if err != nil {
		t.Fatal(err)
	}
	b := randomBatch(rand.New(rand.NewPCG(21, 22)), dims, batch)
	tr := newTrainer(t, m, batch)
	defer tr.vm.Close()
	opt := nn.NewAdamW(1e-3)
	for step := 0; step < 2; step++ {
		_, grads, err := tr.forwardBackward(b)
		if err != nil {
			t.Fatal(err)
		}
		for i, gd := range grads {
			fmt.Printf("hash step %d grad %s %s\n", step, tr.params[i].Name, hashFloats(denseFloat64s(gd)))
		}
		if err := opt.Step(tr.params, grads); err != nil {
			t.Fatal(err)
		}
		if err := tr.g.ZeroGrads(tr.params); err != nil {
			t.Fatal(err)
		}
		for _, p := range tr.params {
			fmt.Printf("hash step %d param %s %s\n", step, p.Name, hashFloats(p.Float64s()))
		}
	}
}

func hashFloats(v []float64) string {
	h := sha256.New()
	var b [8]byte
	for _, x := range v {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		h.Write(b[:])
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}

// hashLines returns the "hash ..." lines of a child's output.
func hashLines(out []byte) string {
	var sb strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "hash ") {
			sb.WriteString(sc.Text())
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// firstDifference returns the first differing line of a and b.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(la), len(lb)); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("  %s\n  %s", la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(la), len(lb))
}
