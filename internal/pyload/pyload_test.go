package pyload

import (
	"bufio"
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestFloat16Specials(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want float64
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, math.Ldexp(1, -24)}, {0x3555, 0.333251953125},
		{0x8000, math.Copysign(0, -1)}, {0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)}} {
		got := Float16(tc.bits)
		if got != tc.want || math.Signbit(got) != math.Signbit(tc.want) {
			t.Errorf("Float16(%#04x) = %v, want %v", tc.bits, got, tc.want)
		}
	}
	if !math.IsNaN(Float16(0x7e00)) {
		t.Error("Float16(0x7e00) is not NaN")
	}
}

func TestCheckLengths(t *testing.T) {
	for _, tc := range []struct {
		name, pickle, err string
	}{
		{"protocol 2 dict", "\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.", ""},
		{"protocol 4 frame", "\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00K\x07\x94.", ""},
		{"protocol 0 text", "(lp0\nI1\na.", ""},
		{"huge string", "\x80\x02X\xff\xff\xff\x7fabc.", "claims 2147483647 bytes"},
		{"huge frame", "\x80\x04\x95\xff\xff\xff\xff\xff\xff\x00\x00.", "frame at byte"},
		{"huge bytes8", "\x80\x05\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.", "claims"},
		{"negative binunicode", "\x80\x02X\x00\x00\x00\x80.", "claims"},
		{"negative long4", "\x80\x02\x8b\xff\xff\xff\xff.", "negative length"},
		{"unknown opcode", "\x80\x02\xff.", "unknown opcode 0xff"},
		{"no stop", "\x80\x02K\x01", "no STOP"},
		{"unterminated line", "I12", "unterminated line"},
		{"empty", "", "empty input"},
	} {
		err := CheckLengths(bufio.NewReader(strings.NewReader(tc.pickle)), int64(len(tc.pickle)))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
		}
	}
}

// TestCheckLengthsStopsAtStop checks that only the first pickle of a stream
// is walked: bytes after its STOP are not read.
func TestCheckLengthsStopsAtStop(t *testing.T) {
	in := []byte("K\x01.\xff\xff")
	if err := CheckLengths(bufio.NewReader(bytes.NewReader(in)), int64(len(in))); err != nil {
		t.Fatal(err)
	}
}
