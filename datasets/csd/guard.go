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
// unrecoverable out-of-memory error. Every block that carries one of those
// signatures is found by a streaming scan, and its size field must not
// exceed the file size. Superblock versions 0 and 1 (what h5py and the CMU
// SDK write) give the field widths; other versions use 8-byte fields.
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
	const block, overlap = 1 << 20, 24
	buf := make([]byte, overlap+block)
	lengthSize, offsetSize := 8, 8
	var base uint64 // file offset of buf[0]
	kept := 0       // bytes carried over from the previous block
	for first := true; ; first = false {
		m, err := io.ReadFull(f, buf[kept:kept+block])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		chunk := buf[:kept+m]
		if first && len(chunk) >= 15 && string(chunk[:8]) == "\x89HDF\r\n\x1a\n" && chunk[8] <= 1 {
			offsetSize, lengthSize = int(chunk[13]), int(chunk[14])
		}
		if err := checkSignature(chunk, base, "HEAP", lengthSize, size, "local heap data segment"); err != nil {
			return err
		}
		if err := checkSignature(chunk, base, "GCOL", offsetSize, size, "global heap collection"); err != nil {
			return err
		}
		if m < block {
			return nil
		}
		// Carry the last bytes over so a block split across reads is seen
		// whole; they are checked again, which is harmless.
		kept = overlap
		copy(buf, chunk[len(chunk)-overlap:])
		base += uint64(len(chunk) - overlap)
	}
}

// checkSignature finds every occurrence of sig in chunk (which starts at
// file offset base) and checks the size field 8 bytes after it.
func checkSignature(chunk []byte, base uint64, sig string, width int, fileSize uint64, what string) error {
	for i := 0; ; i++ {
		j := bytes.Index(chunk[i:], []byte(sig))
		if j < 0 {
			return nil
		}
		i += j
		b := chunk[min(i+8, len(chunk)):]
		var v uint64
		switch {
		case width == 2 && len(b) >= 2:
			v = uint64(binary.LittleEndian.Uint16(b))
		case width == 4 && len(b) >= 4:
			v = uint64(binary.LittleEndian.Uint32(b))
		case width == 8 && len(b) >= 8:
			v = binary.LittleEndian.Uint64(b)
		}
		if v > fileSize {
			return fmt.Errorf("corrupt HDF5 file: %s at byte %d claims %d bytes, the file has %d", what, base+uint64(i), v, fileSize)
		}
	}
}
