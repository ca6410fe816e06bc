#!/usr/bin/python3
"""Writes small CMU-MultimodalSDK computational sequences (.csd) exactly as
mmsdk's write_CSD lays them out, plus expected.json for the Go tests.

Run with Debian's python3 (python3-numpy 1.24, python3-h5py 3.7):
    /usr/bin/python3 make_fixtures.py

Layout (CMU-MultimodalSDK @ 4f2eadcd, computational_sequence/file_ops.py):
    /<root>/data/<entry>/features   (T, D) numeric, or (T, 1) |S<k> words
    /<root>/data/<entry>/intervals  (T, 2) float64 seconds
    /<root>/metadata/<key>          (1,) vlen str holding json.dumps(value)
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)

METADATA = {
    "root name": "toy",
    "computational sequence description": "fixture for synergo's csd reader",
    "dimension names": "[\"f0\", \"f1\"]",
    "computational sequence version": "1.0",
}


def write(name, root, entries, compression=None, metadata=True):
    path = os.path.join(HERE, name)
    with h5py.File(path, "w") as f:
        g = f.create_group(root)
        d = g.create_group("data")
        for eid, (feat, iv) in entries.items():
            e = d.create_group(eid)
            e.create_dataset("features", data=feat, compression=compression)
            e.create_dataset("intervals", data=iv, compression=compression)
        if metadata:
            m = g.create_group("metadata")
            dt = h5py.special_dtype(vlen=str)
            for k, v in METADATA.items():
                m.create_dataset(k, (1,), dtype=dt)
                m[k][0] = json.dumps(v)
    return path


def intervals(t):
    start = np.cumsum(rng.uniform(0.1, 0.5, size=t))
    return np.stack([start, start + rng.uniform(0.05, 0.3, size=t)], axis=1)


def describe(entries):
    out = {}
    for eid, (feat, iv) in entries.items():
        d = {"rows": int(feat.shape[0]), "dim": int(feat.shape[1]), "interval_sum": float(iv.sum()),
             "first_interval": [float(iv[0, 0]), float(iv[0, 1])]}
        if feat.dtype.kind == "S":
            d["words"] = [w.decode() for w in feat[:, 0]]
        else:
            d["feature_sum"] = float(feat.astype(np.float64).sum())
            d["first_row"] = [float(x) for x in feat[0].astype(np.float64)]
        out[eid] = d
    return out


def main():
    expected = {}

    cov = {"vidA": (rng.standard_normal((7, 5)).astype(np.float32), intervals(7)),
           "vidB": (rng.standard_normal((4, 5)).astype(np.float32), intervals(4))}
    write("covarep_f32.csd", "toy_COVAREP", cov)
    expected["covarep_f32.csd"] = {"name": "toy_COVAREP", "entries": describe(cov),
                                   "metadata": {k: json.dumps(v) for k, v in METADATA.items()}}

    lab = {"vidA": (rng.uniform(-3, 3, size=(3, 1)), intervals(3)),
           "vidC[0]": (rng.uniform(-3, 3, size=(2, 1)), intervals(2))}
    write("labels_f64_gzip.csd", "toy_Labels", lab, compression="gzip")
    expected["labels_f64_gzip.csd"] = {"name": "toy_Labels", "entries": describe(lab),
                                       "metadata": {k: json.dumps(v) for k, v in METADATA.items()}}

    words = {"vidA": (np.array([[b"sp"], [b"hello"], [b"there"], [b"sp"]], dtype="|S5"), intervals(4)),
             "vidB": (np.array([[b"ok"], [b"sentiment"]], dtype="|S9"), intervals(2))}
    write("words_bytes.csd", "toy_Words", words)
    expected["words_bytes.csd"] = {"name": "toy_Words", "entries": describe(words),
                                   "metadata": {k: json.dumps(v) for k, v in METADATA.items()}}

    bad = {"vidA": (np.ones((3, 2), dtype=np.float32), intervals(4))}
    write("bad_rows.csd", "toy_Bad", bad)

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
