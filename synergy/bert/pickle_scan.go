package bert

import (
	"encoding/binary"
	"fmt"
)

// pickleArgs gives, per pickle opcode (protocols 0–5), the kind of its
// argument: 0 none, 1..8 a fixed number of bytes, lineArg one text line,
// twoLines two text lines, or a length-prefixed payload (len1, len4,
// len8) whose length field must fit in the rest of the input.
const (
	lineArg  = -1
	twoLines = -2
	len1     = -3
	len4     = -4
	len8     = -5
	frameArg = -6
)

var pickleArgs = func() map[byte]int {
	m := map[byte]int{}
	for _, op := range "(0123NQRabd}el]ost)u" {
		m[byte(op)] = 0
	}
	for _, op := range []byte{0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98} {
		m[op] = 0
	}
	for _, op := range "FILPSVgp" {
		m[byte(op)] = lineArg
	}
	m['c'], m['i'] = twoLines, twoLines
	for _, op := range []byte{'K', 'h', 'q', 0x80, 0x82} {
		m[op] = 1
	}
	m['M'], m[0x83] = 2, 2
	for _, op := range []byte{'J', 'j', 'r', 0x84} {
		m[op] = 4
	}
	m['G'] = 8
	for _, op := range []byte{'U', 'C', 0x8a, 0x8c} {
		m[op] = len1
	}
	for _, op := range []byte{'T', 'X', 'B', 0x8b} {
		m[op] = len4
	}
	for _, op := range []byte{0x8d, 0x8e, 0x96} {
		m[op] = len8
	}
	m[0x95] = frameArg
	m['.'] = 0
	return m
}()

// checkPickleLengths walks the opcodes of the pickle p up to STOP without
// building anything and returns an error if an opcode is unknown, the
// input ends early, or a length field (strings, bytes, frames, long
// integers) claims more bytes than remain. gopickle allocates a length
// field's worth of memory before reading, so this keeps corrupt input from
// requesting gigabytes.
func checkPickleLengths(p []byte) error {
	pos := 0
	need := func(n uint64, what string) error {
		if n > uint64(len(p)-pos) {
			return fmt.Errorf("pickle: %s at byte %d claims %d bytes, %d remain", what, pos, n, len(p)-pos)
		}
		return nil
	}
	line := func() error {
		for pos < len(p) {
			pos++
			if p[pos-1] == '\n' {
				return nil
			}
		}
		return fmt.Errorf("pickle: unterminated line at byte %d", pos)
	}
	for pos < len(p) {
		op := p[pos]
		pos++
		if op == '.' {
			return nil
		}
		kind, ok := pickleArgs[op]
		if !ok {
			return fmt.Errorf("pickle: unknown opcode 0x%02x at byte %d", op, pos-1)
		}
		switch {
		case kind > 0:
			if err := need(uint64(kind), "argument"); err != nil {
				return err
			}
			pos += kind
		case kind == lineArg:
			if err := line(); err != nil {
				return err
			}
		case kind == twoLines:
			if err := line(); err != nil {
				return err
			}
			if err := line(); err != nil {
				return err
			}
		case kind == len1 || kind == len4 || kind == len8 || kind == frameArg:
			width := map[int]int{len1: 1, len4: 4, len8: 8, frameArg: 8}[kind]
			if err := need(uint64(width), "length field"); err != nil {
				return err
			}
			var n uint64
			switch width {
			case 1:
				n = uint64(p[pos])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(p[pos:]))
			case 8:
				n = binary.LittleEndian.Uint64(p[pos:])
			}
			pos += width
			if err := need(n, "counted payload"); err != nil {
				return err
			}
			if kind != frameArg { // a frame's opcodes follow and are walked
				pos += int(n)
			}
		}
	}
	return fmt.Errorf("pickle: no STOP opcode in %d bytes", len(p))
}
