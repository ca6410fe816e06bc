// Package pickle decodes Python pickles that hold numpy arrays, without
// Python and without executing anything the pickle names.
//
// It sits on top of github.com/nlpodyssey/gopickle and supplies the numpy
// pieces gopickle lacks through an allow-listed class resolver: only
// numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype,
// numpy.core.numeric._frombuffer (protocol 5), numpy.core.multiarray.scalar,
// their numpy ≥ 2 names under numpy._core, _codecs.encode (how protocol 2
// stores bytes), the empty-bytes constructor and set/frozenset are
// resolved; every other global is refused with an error, so a hostile
// pickle cannot build arbitrary objects. (gopickle itself also resolves
// collections.OrderedDict, builtins.list/dict, __builtin__.object,
// array._array_reconstructor and copy_reg._reconstructor, all of which only
// build plain containers.)
//
// Decoded values are plain Go values:
//
//	None → nil, bool → bool, int → int (or *big.Int beyond int64),
//	float → float64, str → string, bytes/bytearray → []byte,
//	Python-2 str (BINSTRING) → string holding the raw bytes,
//	list, tuple, set, frozenset → []any, dict/OrderedDict → *Dict,
//	numpy.ndarray → *NDArray, numpy scalar → float64, int, bool or string.
//
// numpy arrays may come in any pickle protocol (2 through 5), in C order,
// little- or big-endian. Fortran-ordered arrays and structured dtypes are
// reported as errors.
//
// Arbitrary input never makes Decode panic: the byte stream is first scanned
// so that no length field can ask for more memory than the input holds, the
// conversion bounds nesting depth and detects cycles, and any panic inside
// gopickle is recovered and returned as an error.
package pickle
