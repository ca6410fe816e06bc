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
// unrecoverable out-of-memory error. Every block header carrying one of
// those signatures is found by a streaming scan, and its size field must
// not exceed the file size. (A corrupt file could still point scigolib at
// bytes that merely start with a signature; that residual risk is accepted.) Superblock versions 0 and 1 (what h5py and the CMU
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
		if err := checkSignature(chunk, base, "HEAP", 0, lengthSize, size, "local heap data segment"); err != nil {
			return err
		}
		if err := checkSignature(chunk, base, "GCOL", 1, offsetSize, size, "global heap collection"); err != nil {
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

// checkSignature finds every block header in chunk (which starts at file
// offset base): the 4-byte signature, the version byte and three zero
// reserved bytes, and checks the size field that follows. Requiring the
// version and reserved bytes keeps feature data that happen to contain the
// signature bytes (about once per 4 GB of random data) from being mistaken
// for a block.
func checkSignature(chunk []byte, base uint64, sig string, version byte, width int, fileSize uint64, what string) error {
	for i := 0; ; i++ {
		j := bytes.Index(chunk[i:], []byte(sig))
		if j < 0 {
			return nil
		}
		i += j
		if i+8 > len(chunk) || chunk[i+4] != version || chunk[i+5] != 0 || chunk[i+6] != 0 || chunk[i+7] != 0 {
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
		if v > fileSize {
			return fmt.Errorf("corrupt HDF5 file: %s at byte %d claims %d bytes, the file has %d", what, base+uint64(i), v, fileSize)
		}
	}
}
