"""Writes npz_numpy_fixture.npz, a tiny dataset in synergo's npz layout
(datasets/FORMAT.md) made by numpy itself, and npz_numpy_fixture.json with
the values the Go test compares against.

The arrays deliberately use the alternative dtypes LoadNPZ accepts
(float64 features and labels, int32 lengths) and np.savez_compressed.
Run with Debian's /usr/bin/python3 (python3-numpy) from this directory.
"""
import json

import numpy as np

rng = np.random.default_rng(20261127)
arrays = {
    "meta": np.array(json.dumps({"format": "synergo-npz", "version": 1, "name": "fixture",
                                 "source": "numpy fixture", "task": "regression"})),
}
expect = {"splits": {}}
for split, n in (("train", 5), ("valid", 3), ("test", 4)):
    labels = np.round(rng.uniform(-3, 3, size=n), 1)
    arrays[f"{split}/labels"] = labels.astype(np.float64)
    ids = np.array([f"vid{split}$_${i + 1}" for i in range(n)])
    arrays[f"{split}/ids"] = ids
    raw = np.array(["ünïcode words " * (i % 2) + f"clip {i}" for i in range(n)])
    arrays[f"{split}/raw_text"] = raw
    info = {"labels": labels.tolist(), "ids": ids.tolist(), "raw_text": raw.tolist()}
    for name, t, d in (("text", 4, 3), ("audio", 4, 2)):
        lengths = rng.integers(1, t + 1, size=n).astype(np.int32)
        x = np.zeros((n, t, d), dtype=np.float64)
        for i, l in enumerate(lengths):
            x[i, :l] = rng.normal(size=(l, d))
        arrays[f"{split}/{name}"] = x
        arrays[f"{split}/{name}_lengths"] = lengths
        info[name] = {"shape": list(x.shape), "sum": float(x.astype(np.float32).astype(np.float64).sum()),
                      "first": float(np.float32(x[0, 0, 0])), "lengths": lengths.tolist()}
    tok = np.zeros((n, 6), dtype=np.int64)
    tok[:, 0], tok[:, 1], tok[:, 2] = 101, 1000 + np.arange(n), 102
    arrays[f"{split}/token_ids"] = tok
    info["token_ids"] = tok.tolist()
    expect["splits"][split] = info

np.savez_compressed("npz_numpy_fixture.npz", **arrays)
with open("npz_numpy_fixture.json", "w") as f:
    json.dump(expect, f, indent=1, ensure_ascii=False)
