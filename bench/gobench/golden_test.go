package gobench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/synergy/nn"
)

// goldenBLAS begins the names (nn.BLASBackend) of the BLAS the digests of
// goldenRuns hold for: synergo's kernels, AVX-512 or AVX2+FMA, which give
// the same digests (recorded with AVX-512; SYNERGO_SIMD=avx2 reproduces
// all 42). Another BLAS rounds differently and skips the test.
const goldenBLAS = "synergo SIMD"

// goldenRuns are the first 8 bytes of SHA-256 digests of every parameter
// of each model after each of two epochs of a Trainer (its Steppers for
// full and remainder batches sharing the op buffers), batches of 5, seed
// 3, MOSI 1/100 (13 samples) and MOSEI 1/1000 (16), without a regularizer,
// with S_MMD and with S_KL. They were recorded at 40f7a39, before the
// optimizer's moments in blocks, the packed recurrent weights, the op
// buffers, the row selections of the BERT models' gate and embeddings, the
// lazily drawn dropout masks and the regularizer's vector loops: changes
// meant to be exact must leave them as they are.
var goldenRuns = []struct {
	model, reg, preset string
	digest             string
}{
	{"eflstm", "none", "mosi", "aca36f3b4038d7c7"},
	{"eflstm", "none", "mosei", "32a1618933506606"},
	{"eflstm", "mmd", "mosi", "10c8414ccd640cde"},
	{"eflstm", "mmd", "mosei", "2750e6a594864909"},
	{"eflstm", "kl", "mosi", "43e0f3c91e402933"},
	{"eflstm", "kl", "mosei", "e03f55ff352bb5e6"},
	{"tfn", "none", "mosi", "1fb3c177b0f0e6ea"},
	{"tfn", "none", "mosei", "6bfe8becf4aee5dc"},
	{"tfn", "mmd", "mosi", "92e6fbdd2b4ddbb5"},
	{"tfn", "mmd", "mosei", "6367f2b8915aea2e"},
	{"tfn", "kl", "mosi", "e25adf53321ad696"},
	{"tfn", "kl", "mosei", "e8ca75b4f24c0488"},
	{"lmf", "none", "mosi", "c0e78fa414a56514"},
	{"lmf", "none", "mosei", "26bb346cfc22d3d8"},
	{"lmf", "mmd", "mosi", "419ce7c37eab05bc"},
	{"lmf", "mmd", "mosei", "71f98748b755c687"},
	{"lmf", "kl", "mosi", "5f0a600d9a2ca757"},
	{"lmf", "kl", "mosei", "128a0eeb0a4111da"},
	{"mfn", "none", "mosi", "86159f5f24416933"},
	{"mfn", "none", "mosei", "a3b48e8abf038a12"},
	{"mfn", "mmd", "mosi", "77451debca4504c5"},
	{"mfn", "mmd", "mosei", "ddd6d38e99cd7c6e"},
	{"mfn", "kl", "mosi", "db50f71e44f64f15"},
	{"mfn", "kl", "mosei", "9bbf274de4434a0a"},
	{"magbert", "none", "mosi", "ba30ec87463da83b"},
	{"magbert", "none", "mosei", "5363ac569578b58a"},
	{"magbert", "mmd", "mosi", "21c99b19b97dfb39"},
	{"magbert", "mmd", "mosei", "6427f911e1b3c79b"},
	{"magbert", "kl", "mosi", "92fafe5adc71d488"},
	{"magbert", "kl", "mosei", "f6474fd099b2d49e"},
	{"misa", "none", "mosi", "05267d4145b271b1"},
	{"misa", "none", "mosei", "852ead10ef30848e"},
	{"misa", "mmd", "mosi", "ff8525ca78312481"},
	{"misa", "mmd", "mosei", "5a7cd7b25959ace9"},
	{"misa", "kl", "mosi", "a9fe9a7e92f32c23"},
	{"misa", "kl", "mosei", "77c052459be370b2"},
	{"mmim", "none", "mosi", "eb358a6631004331"},
	{"mmim", "none", "mosei", "ac7b45301e596650"},
	{"mmim", "mmd", "mosi", "1c9b10ae50418624"},
	{"mmim", "mmd", "mosei", "ec7b0d471b70fd71"},
	{"mmim", "kl", "mosi", "22c0421b4561cb5e"},
	{"mmim", "kl", "mosei", "1f47a03ed027f097"},
}

// TestTrainingGolden re-trains the runs of goldenRuns and compares their
// digests.
func TestTrainingGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 42 small runs")
	}
	if b := nn.BLASBackend(); !strings.HasPrefix(b, goldenBLAS) {
		t.Skipf("digests recorded with %s, this build uses %s", goldenBLAS, b)
	}
	for _, run := range goldenRuns {
		if got := trainDigest(t, run.model, run.reg, run.preset); got != run.digest {
			t.Errorf("%s %s %s: digest %s, want %s", run.model, run.reg, run.preset, got, run.digest)
		}
	}
}

// TestTrainingGoldenAVX2 runs TestTrainingGolden again in a process of its
// own with SYNERGO_SIMD=avx2, where the AVX-512 kernels are the default:
// synergo's AVX2+FMA kernels must give the same 42 digests.
func TestTrainingGoldenAVX2(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 42 small runs")
	}
	if b := nn.BLASBackend(); b != "synergo SIMD (AVX-512)" || os.Getenv("SYNERGO_SIMD") != "" {
		t.Skipf("this build uses %s; the test needs the AVX-512 kernels as the default", b)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestTrainingGolden$", "-test.count", "1", "-test.v")
	cmd.Env = append(os.Environ(), "SYNERGO_SIMD=avx2")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestTrainingGolden") {
		t.Fatalf("TestTrainingGolden with SYNERGO_SIMD=avx2: %v\n%s", err, out)
	}
}

// TestTrainingRepeatable trains every model three times from the same
// seed, with S_MMD at MOSI shapes and S_KL at MOSEI's: twice on GOMAXPROCS
// goroutines (at least 2), then on one. The first two must agree bit for
// bit in whichever build runs the test (the openblas build too, where
// TestTrainingGolden's digests do not apply). Where every row of a product
// is computed the same whatever the number of rows (internal/gemm.RowsExact:
// the default build), the third must agree too: splitting the work over
// fewer goroutines changes no result. With OpenBLAS it does with some of
// its kernel sets (SkylakeX, Cooperlake) and not with others (Haswell:
// MFN, MAG-BERT, MISA and MMIM differ), whose products over a shard of rows
// round differently; the test logs which.
func TestTrainingRepeatable(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 42 small runs")
	}
	exact := matmul.RowsExact[float32]() && matmul.RowsExact[float64]()
	procs := max(2, runtime.GOMAXPROCS(0))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, model := range []string{"eflstm", "tfn", "lmf", "mfn", "magbert", "misa", "mmim"} {
		for _, run := range []struct{ reg, preset string }{{"mmd", "mosi"}, {"kl", "mosei"}} {
			name := fmt.Sprintf("%s %s %s (%s)", model, run.reg, run.preset, nn.BLASBackend())
			runtime.GOMAXPROCS(procs)
			first := trainDigest(t, model, run.reg, run.preset)
			if again := trainDigest(t, model, run.reg, run.preset); again != first {
				t.Errorf("%s: digest %s, then %s on the same %d goroutines", name, first, again, procs)
			}
			runtime.GOMAXPROCS(1)
			switch one := trainDigest(t, model, run.reg, run.preset); {
			case one == first:
			case exact:
				t.Errorf("%s: digest %s on %d goroutines, %s on one", name, first, procs, one)
			default:
				t.Logf("%s: digest %s on %d goroutines, %s on one (this BLAS rounds a shard of rows differently)", name, first, procs, one)
			}
		}
	}
}

// trainDigest trains a goldenRuns run (batches of 5, seed 3, MOSI 1/100
// or MOSEI 1/1000) for two epochs and returns its digest: the first 8
// bytes, in hex, of the SHA-256 of every parameter of the model after each
// epoch.
func trainDigest(t *testing.T, model, reg, preset string) string {
	t.Helper()
	scale := 0.01
	if preset == "mosei" {
		scale = 0.001
	}
	tr, err := NewTrainer(Setup{Model: model, Preset: preset, Regularizer: reg, Batch: 5, Scale: scale, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	h := sha256.New()
	for e := 0; e < 2; e++ {
		if _, err := tr.Epoch(); err != nil {
			t.Fatal(err)
		}
		for _, p := range tr.Model.Params().Params() {
			for _, v := range p.Float64s() {
				binary.Write(h, binary.LittleEndian, math.Float64bits(v))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
