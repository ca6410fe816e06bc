package csd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// checkHeapSizes guards against a weakness of scigolib/hdf5 v0.14.0: it
// allocates a local heap's data segment ("HEAP") and a global heap
// collection ("GCOL") with the size written in the file, before reading,
// so one corrupt size field can make the Go runtime abort with an
// unrecoverable out-of-memory error.
//
// scigolib recognizes a local heap by its 4-byte signature alone and a
// global heap collection by its signature and version 1; the reserved bytes
// after the version are not checked. Every block header it would accept is
// found by a streaming scan, and one whose size field exceeds the file size
// is an error if the block is reachable: if its address, written as the
// file writes addresses (little-endian, the superblock's offset size),
// occurs anywhere in the file — scigolib only loads a heap at an address it
// read from the file. The second condition keeps feature data that merely
// contain the signature bytes (about once per 4 GB of random data) from
// being mistaken for a block, without trusting the version or reserved
// bytes that a corrupt file can change as easily as the size. Superblock
// versions 0 and 1 (what h5py and the CMU SDK write) give the field widths;
// other versions use 8-byte fields.
func checkHeapSizes(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := uint64(st.Size())
	lengthSize, offsetSize := 8, 8
	var suspects []heapBlock
	err = scanFile(f, func(chunk []byte, base uint64, first bool) error {
		if first && len(chunk) >= 15 && string(chunk[:8]) == "\x89HDF\r\n\x1a\n" && chunk[8] <= 1 {
			offsetSize, lengthSize = int(chunk[13]), int(chunk[14])
		}
		suspects = oversizedBlocks(suspects, chunk, base, "HEAP", -1, lengthSize, size, "local heap data segment")
		suspects = oversizedBlocks(suspects, chunk, base, "GCOL", 1, offsetSize, size, "global heap collection")
		if len(suspects) > maxSuspects {
			return fmt.Errorf("corrupt HDF5 file: more than %d heap headers claim more bytes than the file has", maxSuspects)
		}
		return nil
	})
	if err != nil || len(suspects) == 0 {
		return err
	}
	return checkReachable(f, suspects, offsetSize)
}

// maxSuspects bounds the oversized heap headers checkHeapSizes follows up.
const maxSuspects = 1024

// heapBlock is a heap header found at file offset addr whose size field
// claims more than the file holds.
type heapBlock struct {
	addr, size uint64
	what       string
}

// scanFile calls visit on the file in overlapping 1 MiB chunks (the last
// bytes of a chunk start the next one, so a header split across two reads
// is seen whole), with the file offset of each chunk's first byte.
func scanFile(f *os.File, visit func(chunk []byte, base uint64, first bool) error) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	const block, overlap = 1 << 20, 24
	buf := make([]byte, overlap+block)
	var base uint64 // file offset of buf[0]
	kept := 0       // bytes carried over from the previous block
	for first := true; ; first = false {
		m, err := io.ReadFull(f, buf[kept:kept+block])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		chunk := buf[:kept+m]
		if err := visit(chunk, base, first); err != nil {
			return err
		}
		if m < block {
			return nil
		}
		kept = overlap
		copy(buf, chunk[len(chunk)-overlap:])
		base += uint64(len(chunk) - overlap)
	}
}

// oversizedBlocks appends to out every header in chunk (which starts at
// file offset base) with the 4-byte signature sig, the version byte version
// (any version when version < 0) and a little-endian size field of width
// bytes after the three reserved bytes that exceeds fileSize. A header seen
// twice (in the overlap of two chunks) is appended once.
func oversizedBlocks(out []heapBlock, chunk []byte, base uint64, sig string, version int, width int, fileSize uint64, what string) []heapBlock {
	for i := 0; ; i++ {
		j := bytes.Index(chunk[i:], []byte(sig))
		if j < 0 {
			return out
		}
		i += j
		if i+8 > len(chunk) || (version >= 0 && chunk[i+4] != byte(version)) {
			continue
		}
		b := chunk[i+8:]
		var v uint64
		switch {
		case width == 2 && len(b) >= 2:
			v = uint64(binary.LittleEndian.Uint16(b))
		case width == 4 && len(b) >= 4:
			v = uint64(binary.LittleEndian.Uint32(b))
		case width == 8 && len(b) >= 8:
			v = binary.LittleEndian.Uint64(b)
		}
		addr := base + uint64(i)
		if v > fileSize && (len(out) == 0 || out[len(out)-1].addr < addr) {
			out = append(out, heapBlock{addr: addr, size: v, what: what})
		}
	}
}

// checkReachable returns an error naming the first block of suspects whose
// address, as an offsetSize-byte little-endian integer, occurs in the file.
func checkReachable(f *os.File, suspects []heapBlock, offsetSize int) error {
	if offsetSize != 2 && offsetSize != 4 && offsetSize != 8 {
		offsetSize = 8
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	refs := make([][]byte, len(suspects))
	for k, s := range suspects {
		var le [8]byte
		binary.LittleEndian.PutUint64(le[:], s.addr)
		refs[k] = le[:offsetSize]
	}
	return scanFile(f, func(chunk []byte, _ uint64, _ bool) error {
		for k, ref := range refs {
			if bytes.Contains(chunk, ref) {
				s := suspects[k]
				return fmt.Errorf("corrupt HDF5 file: %s at byte %d claims %d bytes, the file has %d", s.what, s.addr, s.size, st.Size())
			}
		}
		return nil
	})
}
