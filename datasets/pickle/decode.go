package pickle

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	gopickle "github.com/nlpodyssey/gopickle/pickle"

	"github.com/synergo/synergo/internal/pyload"
)

// Decode reads one pickle from r and returns it as plain Go values (see the
// package documentation for the mapping). The whole input is read into
// memory first; use DecodeFile for large files.
func Decode(r io.Reader) (any, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	if err := pyload.CheckLengths(bufio.NewReader(bytes.NewReader(data)), int64(len(data))); err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return decodeStream(bytes.NewReader(data))
}

// DecodeFile decodes the pickle stored in the file at path. Errors name the
// file.
func DecodeFile(path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("pickle: %s is a directory", path)
	}
	if err := pyload.CheckLengths(bufio.NewReaderSize(f, 1<<20), st.Size()); err != nil {
		return nil, fmt.Errorf("pickle: %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	v, err := decodeStream(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// decodeStream runs gopickle with the allow-listed resolver and converts the
// result. A panic inside gopickle (it indexes its stack without checks on
// some malformed inputs) is returned as an error.
func decodeStream(r io.Reader) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("pickle: malformed pickle (%v)", p)
		}
	}()
	u := gopickle.NewUnpickler(r)
	u.FindClass = findClass
	u.PersistentLoad = func(any) (any, error) {
		return nil, fmt.Errorf("pickle: persistent ids are not supported")
	}
	u.GetExtension = func(code int) (any, error) {
		return nil, fmt.Errorf("pickle: extension code %d is not supported", code)
	}
	raw, err := u.Load()
	if err != nil {
		if len(err.Error()) > 300 {
			return nil, fmt.Errorf("pickle: %.300s…", err.Error())
		}
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return newConverter().convert(raw, 0)
}
