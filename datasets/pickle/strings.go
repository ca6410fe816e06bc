package pickle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// ScanStrings calls fn, in stream order, with every str or bytes constant
// of at most maxLen bytes in the pickle file at path, without decoding
// anything and without reading large payloads (array data is skipped by
// seeking). It stops at the STOP opcode, at the first malformed opcode, or
// when fn returns false. Format sniffers use it to find the keys of a
// multi-gigabyte pickle cheaply.
func ScanStrings(path string, maxLen int, fn func(s string) bool) error {
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
	str := func(n uint64) error {
		if n > uint64(maxLen) {
			return skip(n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		if !fn(string(b)) {
			return errStop
		}
		return nil
	}
	err = scanOps(r, func(op byte, arg []byte) error {
		switch op {
		case 'U', 'C', 0x8c:
			return str(uint64(arg[0]))
		case 'T', 'X', 'B':
			return str(uint64(binary.LittleEndian.Uint32(arg)))
		case 0x8d, 0x8e, 0x96:
			return str(binary.LittleEndian.Uint64(arg))
		case 0x8a:
			return skip(uint64(arg[0]))
		case 0x8b:
			return skip(uint64(binary.LittleEndian.Uint32(arg)))
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
// argument (line arguments are consumed) and handing counted arguments'
// length prefix to visit, which must consume the counted bytes itself.
func scanOps(r *bufio.Reader, visit func(op byte, arg []byte) error) error {
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
		for ; lines > 0; lines-- {
			if _, err := r.ReadSlice('\n'); err != nil {
				return fmt.Errorf("truncated pickle (unterminated line)")
			}
		}
		var arg [8]byte
		if _, err := io.ReadFull(r, arg[:n]); err != nil {
			return fmt.Errorf("truncated pickle")
		}
		if err := visit(op, arg[:n]); err != nil {
			return err
		}
	}
}
