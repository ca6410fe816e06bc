package pyload

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// CheckLengths walks the opcode stream of one pickle (protocols 0–5, up to
// its STOP opcode) without building anything, and checks that every length
// field (counted strings, bytes, bytearrays, frames, long integers) fits in
// what is left of the input. size is the number of bytes r holds. gopickle
// allocates a length field's worth of memory before reading, so this check
// is what keeps a corrupt 20-byte file from asking for terabytes. An
// unknown opcode or an input that ends before STOP is an error too.
func CheckLengths(r *bufio.Reader, size int64) error {
	var pos int64
	readN := func(n int) ([]byte, error) {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("truncated pickle at byte %d", pos)
		}
		pos += int64(n)
		return b, nil
	}
	skipLine := func() error {
		for {
			c, err := r.ReadByte()
			if err != nil {
				return fmt.Errorf("truncated pickle at byte %d (unterminated line)", pos)
			}
			pos++
			if c == '\n' {
				return nil
			}
		}
	}
	skip := func(n uint64, what string) error {
		if n > uint64(size-pos) {
			return fmt.Errorf("%s at byte %d claims %d bytes but only %d remain", what, pos, n, size-pos)
		}
		if _, err := r.Discard(int(n)); err != nil {
			return fmt.Errorf("truncated pickle at byte %d", pos)
		}
		pos += int64(n)
		return nil
	}
	for {
		op, err := r.ReadByte()
		if err != nil {
			if pos == 0 {
				return errors.New("empty input")
			}
			return fmt.Errorf("truncated pickle at byte %d (no STOP opcode)", pos)
		}
		pos++
		switch op {
		case '.': // STOP
			return nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			// no argument
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p':
			if err := skipLine(); err != nil {
				return err
			}
		case 'c', 'i':
			if err := skipLine(); err != nil {
				return err
			}
			if err := skipLine(); err != nil {
				return err
			}
		case 'K', 'h', 'q', 0x80, 0x82:
			if _, err := readN(1); err != nil {
				return err
			}
		case 'M', 0x83:
			if _, err := readN(2); err != nil {
				return err
			}
		case 'J', 'j', 'r', 0x84:
			if _, err := readN(4); err != nil {
				return err
			}
		case 'G':
			if _, err := readN(8); err != nil {
				return err
			}
		case 'U', 'C', 0x8a, 0x8c: // 1-byte length
			b, err := readN(1)
			if err != nil {
				return err
			}
			if err := skip(uint64(b[0]), "short string"); err != nil {
				return err
			}
		case 'T', 'X', 'B', 0x8b: // 4-byte length
			b, err := readN(4)
			if err != nil {
				return err
			}
			n := binary.LittleEndian.Uint32(b)
			if (op == 'T' || op == 0x8b) && int32(n) < 0 {
				return fmt.Errorf("negative length at byte %d", pos)
			}
			if err := skip(uint64(n), "string"); err != nil {
				return err
			}
		case 0x8d, 0x8e, 0x96: // 8-byte length
			b, err := readN(8)
			if err != nil {
				return err
			}
			if err := skip(binary.LittleEndian.Uint64(b), "byte string"); err != nil {
				return err
			}
		case 0x95: // FRAME: an 8-byte size; the framed opcodes follow
			b, err := readN(8)
			if err != nil {
				return err
			}
			if n := binary.LittleEndian.Uint64(b); n > uint64(size-pos) {
				return fmt.Errorf("frame at byte %d claims %d bytes but only %d remain", pos, n, size-pos)
			}
		default:
			return fmt.Errorf("unknown opcode 0x%02x at byte %d", op, pos-1)
		}
	}
}
