#!/usr/bin/python3
"""Writes the pickle fixtures of package pickle and expected.json.

Run with Debian's python3 (python3-numpy 1.24):  /usr/bin/python3 make_fixtures.py
Every fixture is small; expected.json holds shapes, dtypes, finite sums,
first values and strings computed here by numpy, which the Go tests compare
against.
"""
import collections
import json
import math
import os
import pickle
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def arrays():
    f32 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    f64 = rng.standard_normal((3, 5))
    f64[0, 1] = -np.inf
    return collections.OrderedDict([
        ("f32", f32),
        ("f64_inf", f64),
        ("f64_big", rng.standard_normal((4,)).astype(">f8")),
        ("f16", np.array([0.5, -2.0, 65504.0, 1e-7], dtype=np.float16)),
        ("i64", np.arange(-3, 3, dtype=np.int64).reshape(2, 3)),
        ("i32_big", np.array([1, -2, 300000], dtype=">i4")),
        ("u8", np.array([0, 7, 255], dtype=np.uint8)),
        ("b1", np.array([True, False, True])),
        ("u5", np.array(["ab", "héllo", "", "x"], dtype="<U5")),
        ("s4", np.array([[b"id1", b"id22", b"i"], [b"a", b"bb", b"ccc"]], dtype="|S4")),
        ("obj_str", np.array(["A LOT OF SAD PARTS", "yes"], dtype=object)),
        ("obj_mixed", np.array([1, "two", None], dtype=object)),
        ("zero_d", np.array(2.5)),
        ("empty", np.zeros((0, 3), dtype=np.float32)),
        ("scalar_f8", np.float64(1.25)),
        ("scalar_i8", np.int64(-42)),
        ("scalar_f4", np.float32(0.5)),
    ])


def describe(v):
    """What the Go decoder must produce for v."""
    if isinstance(v, np.ndarray):
        d = {"shape": list(v.shape), "dtype": v.dtype.str if v.dtype != object else "|O"}
        if v.dtype.kind in "US":
            d["strings"] = [x.decode() if isinstance(x, bytes) else x for x in v.ravel().tolist()]
        elif v.dtype == object:
            flat = v.ravel().tolist()
            if all(isinstance(x, (str, bytes)) for x in flat):
                d["strings"] = flat
            else:
                d["objects"] = [repr(x) for x in flat]
        else:
            x = v.astype(np.float64).ravel()
            fin = x[np.isfinite(x)]
            d["finite_sum"] = float(fin.sum())
            d["n_neginf"] = int(np.isneginf(x).sum())
            d["first"] = [float(t) if np.isfinite(t) else str(t) for t in x[:3]]
        return d
    if isinstance(v, np.generic):
        return {"scalar": v.item()}
    raise TypeError(type(v))


def main():
    data = arrays()
    expected = {"arrays": {k: describe(v) for k, v in data.items()}}
    containers = {
        "list": [1, 2.5, "three", None, True],
        "tuple": (1, (2, 3)),
        "int_keys": {1: 0.0, 2: 1.0, 10**20: 5},
        "bytes": b"\x00\x01\xff",
        "set": {3},
    }
    for proto in (2, 4, 5):
        with open(os.path.join(HERE, f"arrays_p{proto}.pkl"), "wb") as f:
            pickle.dump({"arrays": data, "containers": containers}, f, protocol=proto)

    # numpy 2.x module names: the same protocol-2 stream with numpy._core.
    raw = pickle.dumps({"x": data["f32"]}, protocol=2)
    with open(os.path.join(HERE, "numpy2_names_p2.pkl"), "wb") as f:
        f.write(raw.replace(b"numpy.core.multiarray", b"numpy._core.multiarray"))

    # A Python-2-style pickle: array data as BINSTRING ('T'), as cPickle wrote it.
    vals = np.array([[1.5, -2.0, 3.25], [0.0, 4.0, -0.5]])
    body = vals.tobytes()
    py2 = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85U\x01b\x87R"
           b"(K\x01K\x02K\x03\x86cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R"
           b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T" + struct.pack("<i", len(body)) + body +
           b"tb.")
    back = pickle.loads(py2, encoding="latin1")
    assert np.array_equal(back, vals), back
    with open(os.path.join(HERE, "py2_binstring.pkl"), "wb") as f:
        f.write(py2)
    expected["py2_binstring"] = describe(vals)

    # Fortran order: rejected by the decoder (protocol 2 via _reconstruct,
    # protocol 5 via _frombuffer with order 'F').
    fort = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    for proto in (2, 5):
        with open(os.path.join(HERE, f"fortran_p{proto}.pkl"), "wb") as f:
            pickle.dump(fort, f, protocol=proto)

    # A hostile pickle: os.system("echo pwned"). Must be refused.
    with open(os.path.join(HERE, "evil_os_system.pkl"), "wb") as f:
        f.write(b"cos\nsystem\n(S'echo pwned'\ntR.")

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True, ensure_ascii=False)


if __name__ == "__main__":
    main()
