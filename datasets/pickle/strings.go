package pickle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
)

// Event is one opcode of a pickle stream as ScanEvents reports it.
type Event struct {
	// Op is the opcode byte, e.g. '}' EMPTY_DICT, ']' EMPTY_LIST, 'c'
	// GLOBAL, 0x8c SHORT_BINUNICODE.
	Op byte
	// Str holds a str or bytes constant of at most maxLen bytes, or
	// "module name" for GLOBAL; it is empty otherwise.
	Str string
	// IsString reports whether Str is a str or bytes constant.
	IsString bool
}

// ScanStrings calls fn, in stream order, with every str or bytes constant
// of at most maxLen bytes in the pickle file at path, without decoding
// anything and without reading large payloads (array data is skipped by
// seeking). It stops at the STOP opcode, at the first malformed opcode, or
// when fn returns false. Format sniffers use it to find the keys of a
// multi-gigabyte pickle cheaply.
func ScanStrings(path string, maxLen int, fn func(s string) bool) error {
	return ScanEvents(path, maxLen, func(ev Event) bool {
		if ev.IsString {
			return fn(ev.Str)
		}
		return true
	})
}

// ScanEvents is ScanStrings reporting every opcode: fn sees each opcode in
// stream order, with the short string constants and GLOBAL names filled in.
func ScanEvents(path string, maxLen int, fn func(ev Event) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	// skip discards n bytes, seeking past what the buffer does not hold.
	skip := func(n uint64) error {
		if n <= uint64(r.Buffered()) {
			_, err := r.Discard(int(n))
			return err
		}
		rest := n - uint64(r.Buffered())
		if rest > 1<<62 {
			return fmt.Errorf("length %d too large", n)
		}
		if _, err := f.Seek(int64(rest), io.SeekCurrent); err != nil {
			return err
		}
		r.Reset(f)
		return nil
	}
	str := func(op byte, n uint64) error {
		if n > uint64(maxLen) {
			if err := skip(n); err != nil {
				return err
			}
			if !fn(Event{Op: op}) {
				return errStop
			}
			return nil
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		if !fn(Event{Op: op, Str: string(b), IsString: true}) {
			return errStop
		}
		return nil
	}
	err = scanOps(r, func(op byte, arg []byte, line string) error {
		switch op {
		case 'U', 'C', 0x8c:
			return str(op, uint64(arg[0]))
		case 'T', 'X', 'B':
			return str(op, uint64(binary.LittleEndian.Uint32(arg)))
		case 0x8d, 0x8e, 0x96:
			return str(op, binary.LittleEndian.Uint64(arg))
		case 0x8a:
			if err := skip(uint64(arg[0])); err != nil {
				return err
			}
		case 0x8b:
			if err := skip(uint64(binary.LittleEndian.Uint32(arg))); err != nil {
				return err
			}
		}
		if !fn(Event{Op: op, Str: line}) {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}

var errStop = fmt.Errorf("stop")

// scanOps walks the opcodes of one pickle, reading each opcode's fixed
// argument and handing counted arguments' length prefix to visit, which
// must consume the counted bytes itself. Line arguments are consumed; a
// GLOBAL's two lines reach visit as "module name".
func scanOps(r *bufio.Reader, visit func(op byte, arg []byte, line string) error) error {
	for {
		op, err := r.ReadByte()
		if err != nil {
			return fmt.Errorf("truncated pickle (no STOP opcode)")
		}
		n := 0
		lines := 0
		switch op {
		case '.':
			return nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p':
			lines = 1
		case 'c', 'i':
			lines = 2
		case 'K', 'h', 'q', 0x80, 0x82, 'U', 'C', 0x8a, 0x8c:
			n = 1
		case 'M', 0x83:
			n = 2
		case 'J', 'j', 'r', 0x84, 'T', 'X', 'B', 0x8b:
			n = 4
		case 'G', 0x8d, 0x8e, 0x96, 0x95:
			n = 8
		default:
			return fmt.Errorf("unknown opcode 0x%02x", op)
		}
		var text []string
		for ; lines > 0; lines-- {
			l, err := r.ReadSlice('\n')
			if err != nil {
				return fmt.Errorf("truncated pickle (unterminated line)")
			}
			if op == 'c' && len(l) <= 256 {
				text = append(text, string(l[:len(l)-1]))
			}
		}
		var arg [8]byte
		if _, err := io.ReadFull(r, arg[:n]); err != nil {
			return fmt.Errorf("truncated pickle")
		}
		if err := visit(op, arg[:n], strings.Join(text, " ")); err != nil {
			return err
		}
	}
}
