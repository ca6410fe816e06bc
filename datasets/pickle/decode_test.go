package pickle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type expectedArray struct {
	Shape     []int    `json:"shape"`
	Dtype     string   `json:"dtype"`
	FiniteSum *float64 `json:"finite_sum"`
	NNegInf   int      `json:"n_neginf"`
	First     []any    `json:"first"`
	Strings   []string `json:"strings"`
	Objects   []string `json:"objects"`
	Scalar    any      `json:"scalar"`
}

type expectedFile struct {
	Arrays       map[string]expectedArray `json:"arrays"`
	Py2BinString expectedArray            `json:"py2_binstring"`
}

func loadExpected(t *testing.T) expectedFile {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expectedFile
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// pyRepr renders a decoded Go value the way Python's repr renders the
// original, for the few kinds the fixtures use.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + x + "'"
	}
	return fmt.Sprint(v)
}

func checkArray(t *testing.T, name string, a *NDArray, want expectedArray) {
	t.Helper()
	if fmt.Sprint(a.Shape) != fmt.Sprint(want.Shape) {
		t.Errorf("%s: shape %v, want %v", name, a.Shape, want.Shape)
	}
	if a.Dtype != want.Dtype {
		t.Errorf("%s: dtype %q, want %q", name, a.Dtype, want.Dtype)
	}
	switch {
	case want.Strings != nil:
		if fmt.Sprintf("%q", a.Strings) != fmt.Sprintf("%q", want.Strings) {
			t.Errorf("%s: strings %q, want %q", name, a.Strings, want.Strings)
		}
	case want.Objects != nil:
		got := make([]string, len(a.Objects))
		for i, o := range a.Objects {
			got[i] = pyRepr(o)
		}
		if fmt.Sprint(got) != fmt.Sprint(want.Objects) {
			t.Errorf("%s: objects %v, want %v", name, got, want.Objects)
		}
	case want.FiniteSum != nil:
		if len(a.Float64) != a.Size() {
			t.Fatalf("%s: %d values for shape %v", name, len(a.Float64), a.Shape)
		}
		sum, ninf := 0.0, 0
		for _, v := range a.Float64 {
			switch {
			case math.IsInf(v, -1):
				ninf++
			case !math.IsInf(v, 0) && !math.IsNaN(v):
				sum += v
			}
		}
		if math.Abs(sum-*want.FiniteSum) > 1e-9*(1+math.Abs(sum)) {
			t.Errorf("%s: finite sum %.15g, want %.15g", name, sum, *want.FiniteSum)
		}
		if ninf != want.NNegInf {
			t.Errorf("%s: %d -inf values, want %d", name, ninf, want.NNegInf)
		}
		for i, f := range want.First {
			got := a.Float64[i]
			switch w := f.(type) {
			case float64:
				if got != w {
					t.Errorf("%s[%d] = %v, want %v", name, i, got, w)
				}
			case string:
				if fmt.Sprint(got) != strings.Replace(w, "inf", "Inf", 1) {
					t.Errorf("%s[%d] = %v, want %v", name, i, got, w)
				}
			}
		}
	default:
		t.Fatalf("%s: expectation has no values", name)
	}
}

func TestDecodeArraysAllProtocols(t *testing.T) {
	want := loadExpected(t)
	for _, proto := range []int{2, 4, 5} {
		path := fmt.Sprintf("testdata/arrays_p%d.pkl", proto)
		t.Run(filepath.Base(path), func(t *testing.T) {
			v, err := DecodeFile(path)
			if err != nil {
				t.Fatal(err)
			}
			root := v.(*Dict)
			av, ok := root.Get("arrays")
			if !ok {
				t.Fatal("no key arrays")
			}
			arrays := av.(*Dict)
			if arrays.Len() != len(want.Arrays) {
				t.Errorf("%d arrays, want %d", arrays.Len(), len(want.Arrays))
			}
			for name, w := range want.Arrays {
				got, ok := arrays.Get(name)
				if !ok {
					t.Errorf("missing %s", name)
					continue
				}
				if w.Scalar != nil {
					if fmt.Sprint(got) != fmt.Sprint(w.Scalar) {
						t.Errorf("%s: scalar %v (%T), want %v", name, got, got, w.Scalar)
					}
					continue
				}
				a, ok := got.(*NDArray)
				if !ok {
					t.Errorf("%s: got %T, want *NDArray", name, got)
					continue
				}
				checkArray(t, name, a, w)
			}
			cv, _ := root.Get("containers")
			c := cv.(*Dict)
			l, _ := c.Get("list")
			if fmt.Sprint(l) != "[1 2.5 three <nil> true]" {
				t.Errorf("list = %v", l)
			}
			tu, _ := c.Get("tuple")
			if fmt.Sprint(tu) != "[1 [2 3]]" {
				t.Errorf("tuple = %v", tu)
			}
			ik, _ := c.Get("int_keys")
			d := ik.(*Dict)
			if v, ok := d.Get(2); !ok || v != 1.0 {
				t.Errorf("int_keys[2] = %v, %v", v, ok)
			}
			if big, ok := d.Keys[2].(*big.Int); !ok || big.String() != "100000000000000000000" {
				t.Errorf("int_keys third key = %v (%T)", d.Keys[2], d.Keys[2])
			}
			b, _ := c.Get("bytes")
			if !bytes.Equal(b.([]byte), []byte{0, 1, 0xff}) {
				t.Errorf("bytes = %v", b)
			}
			s, _ := c.Get("set")
			if fmt.Sprint(s) != "[3]" {
				t.Errorf("set = %v", s)
			}
		})
	}
}

func TestDecodePython2BinString(t *testing.T) {
	want := loadExpected(t)
	v, err := DecodeFile("testdata/py2_binstring.pkl")
	if err != nil {
		t.Fatal(err)
	}
	checkArray(t, "py2", v.(*NDArray), want.Py2BinString)
}

func TestDecodeNumpy2Names(t *testing.T) {
	want := loadExpected(t)
	v, err := DecodeFile("testdata/numpy2_names_p2.pkl")
	if err != nil {
		t.Fatal(err)
	}
	x, _ := v.(*Dict).Get("x")
	checkArray(t, "x", x.(*NDArray), want.Arrays["f32"])
}

func TestDecodeRefusals(t *testing.T) {
	for _, c := range []struct{ file, msg string }{
		{"evil_os_system.pkl", "refusing global os.system"},
		{"fortran_p2.pkl", "Fortran order"},
		{"fortran_p5.pkl", "order F"},
	} {
		_, err := DecodeFile("testdata/" + c.file)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want one containing %q", c.file, err, c.msg)
		}
		if err != nil && !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: error %q does not name the file", c.file, err)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	good, err := os.ReadFile("testdata/arrays_p4.pkl")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"truncated":        good[:len(good)/2],
		"huge BINBYTES8":   []byte("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\x00\x00."),
		"huge frame":       []byte("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f."),
		"stack underflow":  []byte("\x80\x02R."),
		"odd SETITEMS":     []byte("\x80\x02}(K\x01u."),
		"self-containing":  []byte("\x80\x02]q\x00h\x00a."),
		"unknown opcode":   []byte("\x80\x02\xff."),
		"short array data": []byte("\x80\x02cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R."),
		// An array of 2⁴⁰ elements of dtype S0 and no data, written by
		// numpy 1.24 with pickle.dumps({"x": Fake()}, protocol=2) where
		// Fake.__reduce__ returns (np.core.multiarray._reconstruct,
		// (np.ndarray, (0,), b"b"), (1, (2**40,), np.dtype("S0"), False, b"")).
		// It used to abort the process with an out-of-memory error.
		"zero-size elements": []byte("\x80\x02}q\x00X\x01\x00\x00\x00xq\x01cnumpy.core.multiarray\n_reconstruct\nq\x02cnumpy\nndarray\nq\x03K\x00\x85q\x04c_codecs\nencode\nq\x05X\x01\x00\x00\x00bq\x06X\x06\x00\x00\x00latin1q\x07\x86q\x08Rq\x09\x87q\nRq\x0b(K\x01\x8a\x06\x00\x00\x00\x00\x00\x01\x85q\x0ccnumpy\ndtype\nq\x0dX\x02\x00\x00\x00S0q\x0e\x89\x88\x87q\x0fRq\x10(K\x03X\x01\x00\x00\x00|q\x11NNNK\x00K\x01K\x00tq\x12b\x89c__builtin__\nbytes\nq\x13)Rq\x14tq\x15bs."),
	}
	for name, in := range cases {
		v, err := Decode(bytes.NewReader(in))
		if err == nil {
			t.Errorf("%s: decoded to %v, want an error", name, v)
		}
	}
}

func TestDecodeDAGStaysShared(t *testing.T) {
	// l = [0]; for 40 levels l = [l, l]: 2^40 leaves as a tree, 41 lists as a DAG.
	var b bytes.Buffer
	b.WriteString("\x80\x02]q\x00K\x00a")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "]q%c(h%ch%ce", byte(i), byte(i-1), byte(i-1))
	}
	b.WriteString(".")
	v, err := Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for x := v; ; depth++ {
		l, ok := x.([]any)
		if !ok || len(l) == 1 {
			break
		}
		x = l[0]
	}
	if depth != 40 {
		t.Errorf("depth %d, want 40", depth)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pkl")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = Decode(bytes.NewReader(in))
	})
}

func TestScanStrings(t *testing.T) {
	for _, p := range []int{2, 4, 5} {
		var got []string
		err := ScanStrings(fmt.Sprintf("testdata/arrays_p%d.pkl", p), 32, func(s string) bool {
			got = append(got, s)
			return s != "obj_str"
		})
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(got, ",")
		if !strings.HasPrefix(joined, "arrays,") || !strings.Contains(joined, ",f32,") || !strings.HasSuffix(joined, ",obj_str") || !strings.Contains(joined, ",u5,") {
			t.Errorf("protocol %d: strings %q", p, joined)
		}
	}
}

func ExampleDecodeFile() {
	v, err := DecodeFile("testdata/arrays_p5.pkl")
	if err != nil {
		fmt.Println(err)
		return
	}
	arrays, _ := v.(*Dict).Get("arrays")
	f32, _ := arrays.(*Dict).Get("f32")
	a := f32.(*NDArray)
	fmt.Println(a.Shape, a.Dtype, len(a.Float64))
	s4, _ := arrays.(*Dict).Get("s4")
	fmt.Printf("%q\n", s4.(*NDArray).Strings)
	// Output:
	// [2 3 4] <f4 24
	// ["id1" "id22" "i" "a" "bb" "ccc"]
}

func TestScanEventsGlobalsAndContainers(t *testing.T) {
	var globals []string
	dicts := 0
	err := ScanEvents("testdata/arrays_p2.pkl", 32, func(ev Event) bool {
		switch ev.Op {
		case 'c':
			globals = append(globals, ev.Str)
		case '}':
			dicts++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(globals, ",")
	for _, g := range []string{"numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype", "_codecs encode", "collections OrderedDict"} {
		if !strings.Contains(joined, g) {
			t.Errorf("globals %q lack %q", joined, g)
		}
	}
	// The root dict, containers and int_keys.
	if dicts != 3 {
		t.Errorf("%d EMPTY_DICT opcodes, want 3", dicts)
	}
}
