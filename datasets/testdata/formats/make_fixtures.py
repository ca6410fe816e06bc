#!/usr/bin/python3
"""Writes small fixtures in every dataset format synergo reads, plus
expected.json with what the Go loaders must produce, computed here with
numpy by the documented rules.

Run with Debian's python3 (python3-numpy 1.24, python3-h5py 3.7):
    cd datasets/testdata/formats && /usr/bin/python3 make_fixtures.py

Formats (layouts as datasets/FORMAT.md and the loaders' doc comments describe them):
  mmsa_{aligned,unaligned}_p{2,4,5}.pkl  MMSA aligned_50 / unaligned_50 pickles
  mult_p4.pkl                            MulT processed_data pickle (front padding)
  magbert_p4.pkl                         MAG-BERT pickle (train/dev/test lists)
  urfunny_v1/, urfunny_v2/               UR-FUNNY feature folders
  cmu_sdk/                               .csd sequences + labels CSV + folds JSON
  err_*.pkl                              one defect each, for the error tests

The Go side's rules, mirrored by the reference functions below:
  * every sequence is post-padded: valid steps first, zeros after;
  * MMSA: -inf -> 0; lengths from *_lengths (unaligned) or from the text_bert
    attention mask (aligned); a length of 0 becomes 1; steps past the length
    are zeroed; token ids are text_bert row 0 with 0 where the mask is 0;
  * MulT: -inf -> 0 and NaN -> 0, then length = T - leading all-zero frames
    and the data move to the start; labels[:, 0, 0];
  * MAG-BERT: padded to the longest sample over all splits, capped at 50
    (longer samples keep their first 50 words); -inf -> 0;
  * UR-FUNNY: punchline only, T = 20, a longer punchline keeps its last 20
    words; text = GloVe vector of each word index; NaN and -inf -> 0;
  * CMU SDK: a word is in a segment when its midpoint lies in [start, end);
    "sp" is dropped; each feature sequence is aligned to the kept words by
    averaging the rows whose interval overlaps the word (non-finite values
    count as 0); T = min(longest segment, 50), a longer segment keeps its
    last 50 words.
"""
import collections
import json
import math
import os
import pickle
import shutil

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2024)
SPLITS = ("train", "valid", "test")


def f32sum(x):
    """Sum of the float32 values, accumulated in float64 (what Go does)."""
    return float(np.asarray(x, dtype=np.float32).astype(np.float64).sum())


def seq_expect(data, lengths):
    """Expected description of post-padded float32 sequences (N, T, D)."""
    data = np.asarray(data, dtype=np.float32)
    return {"T": int(data.shape[1]), "D": int(data.shape[2]),
            "lengths": [int(l) for l in lengths], "sum": f32sum(data),
            "first": [float(v) for v in data[0, 0, :3]],
            "abs_sum": float(np.abs(data.astype(np.float64)).sum())}


def post_pad_mask(data, lengths):
    out = data.copy()
    for i, l in enumerate(lengths):
        out[i, l:] = 0
    return out


# --------------------------------------------------------------------- MMSA

def mmsa_split(n, t_text, t_audio, t_vision, aligned, d_text=16, d_audio=5, d_vision=20):
    ids = np.array([f"vid{rng.integers(100, 999)}$_${i + 1}" for i in range(n)], dtype="<U16")
    words = ["A LOT OF SAD PARTS", "YES", "I LIKED IT", "NOT REALLY", "WHAT A MOVIE"]
    raw = np.array([words[i % len(words)] for i in range(n)], dtype=object)
    text_len = rng.integers(2, t_text + 1, size=n)
    text_len[0] = t_text
    bert = np.zeros((n, 3, t_text))
    for i, l in enumerate(text_len):
        bert[i, 0, :l] = [101] + list(rng.integers(1000, 30000, size=l - 2)) + [102]
        bert[i, 1, :l] = 1
    text = rng.standard_normal((n, t_text, d_text)).astype(np.float32)
    audio = rng.standard_normal((n, t_audio, d_audio))
    vision = rng.standard_normal((n, t_vision, d_vision))
    audio[0, 0, d_audio - 1] = -np.inf  # COVAREP silence, inside the valid region
    labels = np.round(rng.uniform(-3, 3, size=n) * 5) / 5
    labels = labels.astype(np.float32)
    d = collections.OrderedDict()
    d["raw_text"] = raw
    d["audio"] = audio
    d["vision"] = vision
    d["id"] = ids
    d["text"] = text
    d["text_bert"] = bert
    d["annotations"] = np.array(["Positive" if y > 0 else "Negative" for y in labels], dtype=object)
    d["classification_labels"] = (labels > 0).astype(np.float32) * 2
    d["regression_labels"] = labels
    if aligned:
        la = lv = text_len
    else:
        la = rng.integers(1, t_audio + 1, size=n)
        lv = rng.integers(1, t_vision + 1, size=n)
        la[-1] = 0  # a recorded length of 0 (becomes 1 with a zero step)
        d["audio_lengths"] = [int(x) for x in la]  # a Python list, as in the real files
        d["vision_lengths"] = np.array(lv, dtype=np.int64)
    # The padded tail is NOT zero in the real files: put garbage there.
    return d, text_len, la, lv


def mmsa_expect(d, text_len, la, lv):
    def clean(x, lengths):
        x = np.where(np.isneginf(x), 0, x)
        la1 = [max(int(l), 1) for l in lengths]
        out = post_pad_mask(x, [int(l) for l in lengths])
        return out, la1
    text, lt = clean(d["text"].astype(np.float64), text_len)
    audio, la1 = clean(d["audio"], la)
    vision, lv1 = clean(d["vision"], lv)
    tok = d["text_bert"][:, 0, :] * d["text_bert"][:, 1, :]
    return {"n": len(d["regression_labels"]), "ids": list(d["id"]), "raw_text": list(d["raw_text"]),
            "labels": [float(y) for y in d["regression_labels"]],
            "token_ids_first": [int(v) for v in tok[0]], "token_ids_sum": int(tok.sum()),
            "modalities": {"text": seq_expect(text, lt), "audio": seq_expect(audio, la1),
                           "vision": seq_expect(vision, lv1)}}


def write_mmsa():
    expected = {}
    for aligned in (True, False):
        splits, exp = collections.OrderedDict(), {}
        for name, n in zip(SPLITS, (4, 3, 3)):
            if aligned:
                d, lt, la, lv = mmsa_split(n, 6, 6, 6, True)
            else:
                d, lt, la, lv = mmsa_split(n, 6, 7, 8, False)
            splits[name] = d
            exp[name] = mmsa_expect(d, lt, la, lv)
        kind = "aligned" if aligned else "unaligned"
        for proto in (2, 4, 5):
            obj = collections.OrderedDict(splits)
            if proto == 5:  # MMSA-FET writes a top-level config with HIGHEST_PROTOCOL
                obj = collections.OrderedDict([("config", {"featureExtractor": "fixture"})] + list(splits.items()))
            name = f"mmsa_{kind}_p{proto}.pkl"
            with open(os.path.join(HERE, name), "wb") as f:
                pickle.dump(dict(obj), f, protocol=proto)
            expected[name] = {"format": "mmsa-pickle", "task": "regression", "splits": exp}
    return expected


# --------------------------------------------------------------------- MulT

def write_mult():
    splits, exp = {}, {}
    for name, n in zip(SPLITS, (4, 3, 3)):
        d, e = {}, {}
        lengths = {}
        for key, t, dim in (("text", 6, 12), ("audio", 7, 5), ("vision", 8, 20)):
            x = np.zeros((n, t, dim), dtype=np.float32)
            ls = rng.integers(1, t + 1, size=n)
            ls[0] = t
            for i, l in enumerate(ls):
                x[i, t - l:] = rng.standard_normal((l, dim))  # FRONT padding
            lengths[key] = ls
            d[key] = x
        d["audio"][1, -1, 0] = -np.inf
        d["vision"][0, -1, 3] = np.nan  # MMIM's nan_to_num makes this 0
        labels = (np.round(rng.uniform(-3, 3, size=n) * 5) / 5).astype(np.float32).reshape(n, 1, 1)
        d["labels"] = labels
        ids = []
        for i in range(n):
            if i % 2 == 0:
                ids.append([f"vid{i}_{i + 1}".encode(), b"", b""])  # MOSI: <video>_<clip>
            else:
                ids.append([f"-3g5yACwY{i}".encode(), b"82.753", b"100.555"])  # MOSEI triplet
        d["id"] = np.array(ids, dtype="|S14")
        ordered = collections.OrderedDict((k, d[k]) for k in ("text", "audio", "vision", "labels", "id"))
        splits[name] = ordered
        e = {"n": n, "labels": [float(y) for y in labels[:, 0, 0]],
             "ids": [r[0].decode() if not r[1] else f"{r[0].decode()}[{r[1].decode()},{r[2].decode()}]" for r in ids],
             "modalities": {}}
        for key in ("text", "audio", "vision"):
            x = np.nan_to_num(d[key].astype(np.float64), nan=0.0, neginf=0.0)
            t = x.shape[1]
            out = np.zeros_like(x)
            ls = []
            for i in range(n):
                zero = np.all(x[i] == 0, axis=1)
                lead = 0
                while lead < t and zero[lead]:
                    lead += 1
                l = t - lead
                out[i, :l] = x[i, lead:]
                ls.append(max(l, 1))
            e["modalities"][key] = seq_expect(out, ls)
        exp[name] = e
    e_nan = int(sum(np.isnan(splits[s]["vision"]).sum() for s in SPLITS))
    with open(os.path.join(HERE, "mult_p4.pkl"), "wb") as f:
        pickle.dump(splits, f, protocol=4)
    return {"mult_p4.pkl": {"format": "mult-pickle", "task": "regression", "nan_zeroed": e_nan, "splits": exp}}


# ----------------------------------------------------------------- MAG-BERT

def write_magbert(filename="magbert_p4.pkl", protocol=4, list_words=False):
    """list_words writes the words as Python lists of str (including the
    words "labels" and "dev", which must not confuse format sniffing)."""
    lex = ["the", "movie", "was", "great", "not", "bad", "i", "think", "so", "very"]
    if list_words:
        lex = ["labels", "dev", "raw_text", "the", "movie", "was", "great", "not", "bad", "i"]
    data, exp = {}, {}
    all_n = []
    items_by_split = {}
    for name, key, n in (("train", "train", 4), ("valid", "dev", 3), ("test", "test", 3)):
        items = []
        for i in range(n):
            nw = int(rng.integers(2, 8))
            if name == "train" and i == 2:
                nw = 57  # longer than the 50-step cap
            words = np.array([lex[j % len(lex)] for j in rng.integers(0, 10, size=nw)], dtype="<U8")
            if list_words:
                words = [str(w) for w in words]
            visual = rng.standard_normal((nw, 7))
            acoustic = rng.standard_normal((nw, 9))
            if i == 0:
                acoustic[0, 1] = -np.inf
            label = np.array([[round(float(rng.uniform(-3, 3)), 1)]])
            items.append(((words, visual, acoustic), label, f"vid{name}{i}[{i}]"))
            all_n.append(nw)
        data[key] = items
        items_by_split[name] = items
    t = min(max(all_n), 50)
    for name, items in items_by_split.items():
        n = len(items)
        vis = np.zeros((n, t, 7))
        aco = np.zeros((n, t, 9))
        ls = []
        for i, ((w, v, a), y, seg) in enumerate(items):
            l = min(len(w), t)
            vis[i, :l] = v[:l]
            aco[i, :l] = np.where(np.isneginf(a[:l]), 0, a[:l])
            ls.append(l)
        exp[name] = {"n": n, "ids": [it[2] for it in items], "labels": [float(it[1][0, 0]) for it in items],
                     "raw_text": [" ".join(it[0][0]) for it in items],
                     "modalities": {"audio": seq_expect(aco, ls), "vision": seq_expect(vis, ls)}}
    with open(os.path.join(HERE, filename), "wb") as f:
        pickle.dump(data, f, protocol=protocol)
    return {filename: {"format": "magbert-pickle", "task": "regression", "splits": exp}}


# ----------------------------------------------------------------- UR-FUNNY

def write_urfunny(version):
    folder = os.path.join(HERE, f"urfunny_v{version}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    vocab = 14
    emb = rng.standard_normal((vocab, 300)).astype(np.float32)
    dv = 75 if version == 1 else 371
    folds = {"train": [11, 3, 27], "dev": [5, 8], "test": [40, 2]}
    lengths = {11: 3, 3: 5, 27: 23, 5: 4, 8: 2, 40: 6, 2: 1}
    labels, lang, cov, of = {}, {}, {}, {}
    for k, (i, n) in enumerate(lengths.items()):
        labels[i] = float(k % 2)
        idx = [int(j) for j in rng.integers(0, vocab, size=n)]
        ctx = [[int(j) for j in rng.integers(0, vocab, size=3)]]
        a = rng.standard_normal((n, 81))
        if k == 1:
            a[0, 4] = np.nan  # COVAREP NaN: zeroed as MISA does
            a[1, 5] = -np.inf
        v = rng.standard_normal((n, dv)).astype(np.float32)
        cov[i] = {"punchline_features": a, "context_features": [rng.standard_normal((3, 81))]}
        of[i] = {"punchline_features": v, "context_features": [rng.standard_normal((3, dv)).astype(np.float32)]}
        entry = {"punchline_embedding_indexes": idx, "context_embedding_indexes": ctx}
        if version == 2:
            entry["punchline_sentence"] = " ".join(f"w{j}" for j in idx)
            entry["context_sentences"] = ["a b c"]
            entry["punchline_intervals"] = [[float(j), float(j) + 0.5] for j in range(n)]
            entry["context_intervals"] = [[[0.0, 0.5], [0.5, 1.0], [1.0, 1.5]]]
        lang[i] = entry
    labels[99] = 1.0  # a labelled id in no fold, as in the real file
    with open(os.path.join(folder, "data_folds.pkl"), "wb") as f:
        pickle.dump(folds, f, protocol=4)
    with open(os.path.join(folder, "humor_label_sdk.pkl"), "wb") as f:
        pickle.dump(labels, f, protocol=3)
    if version == 1:
        with open(os.path.join(folder, "word_embedding_indexes_sdk.pkl"), "wb") as f:
            pickle.dump(lang, f, protocol=3)
        with open(os.path.join(folder, "word_embedding_list.pkl"), "wb") as f:
            pickle.dump([emb[j] for j in range(vocab)], f, protocol=3)  # list of arrays
    else:
        with open(os.path.join(folder, "language_sdk.pkl"), "wb") as f:
            pickle.dump(lang, f, protocol=4)
        with open(os.path.join(folder, "word_embedding_list.pkl"), "wb") as f:
            pickle.dump([[float(x) for x in emb[j]] for j in range(vocab)], f, protocol=4)  # list of lists
    with open(os.path.join(folder, "covarep_features_sdk.pkl"), "wb") as f:
        pickle.dump(cov, f, protocol=4)
    with open(os.path.join(folder, "openface_features_sdk.pkl"), "wb") as f:
        pickle.dump(of, f, protocol=4)

    T = 20
    exp = {}
    for name, key in (("train", "train"), ("valid", "dev"), ("test", "test")):
        ids = folds[key]
        n = len(ids)
        mods = {"text": np.zeros((n, T, 300)), "audio": np.zeros((n, T, 81)), "vision": np.zeros((n, T, dv))}
        ls = []
        for r, i in enumerate(ids):
            idx = lang[i]["punchline_embedding_indexes"][-T:]
            a = np.nan_to_num(cov[i]["punchline_features"][-T:], nan=0.0, neginf=0.0, posinf=0.0)
            v = of[i]["punchline_features"][-T:].astype(np.float64)
            l = len(idx)
            mods["text"][r, :l] = emb[idx].astype(np.float64)
            mods["audio"][r, :l] = a
            mods["vision"][r, :l] = v
            ls.append(l)
        e = {"n": n, "ids": [str(i) for i in ids], "labels": [labels[i] for i in ids],
             "modalities": {k: seq_expect(v, ls) for k, v in mods.items()}}
        if version == 2:
            e["raw_text"] = [lang[i]["punchline_sentence"] for i in ids]
        exp[name] = e
    return {f"urfunny_v{version}": {"format": f"urfunny-v{version}", "task": "binary", "splits": exp}}


# ------------------------------------------------------------------ CMU SDK

def write_csd(path, root, entries, compression=None):
    with h5py.File(path, "w") as f:
        g = f.create_group(root)
        d = g.create_group("data")
        for eid, (feat, iv) in entries.items():
            e = d.create_group(eid)
            e.create_dataset("features", data=feat, compression=compression)
            e.create_dataset("intervals", data=iv, compression=compression)
        m = g.create_group("metadata")
        dt = h5py.special_dtype(vlen=str)
        for k, v in {"root name": root, "computational sequence version": "1.0"}.items():
            m.create_dataset(k, (1,), dtype=dt)
            m[k][0] = json.dumps(v)


def write_cmu_sdk():
    folder = os.path.join(HERE, "cmu_sdk")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    lex = ["i", "liked", "it", "sp", "not", "much", "great", "sp", "movie", "really"]
    videos = {"vidA": "train", "vidB": "valid", "vidC": "test", "vidD": None}
    words, cov, facet, glove = {}, {}, {}, {}
    segments = []
    for vid, split in videos.items():
        nw = 14
        w = [lex[j] for j in rng.integers(0, len(lex), size=nw)]
        starts = np.cumsum(rng.uniform(0.2, 0.6, size=nw))
        iv = np.stack([starts, starts + rng.uniform(0.1, 0.25, size=nw)], axis=1)
        words[vid] = (np.array([[x.encode()] for x in w], dtype="|S6"), iv)
        glove[vid] = (rng.standard_normal((nw, 6)).astype(np.float32), iv.copy())
        end = float(iv[-1, 1]) + 0.5
        ts = np.arange(0.0, end, 0.1)
        c = rng.standard_normal((len(ts), 5)).astype(np.float32)
        c[3, 1] = -np.inf
        cov[vid] = (c, np.stack([ts, ts + 0.1], axis=1))
        tf = np.arange(0.0, end, 0.25)
        facet[vid] = (rng.standard_normal((len(tf), 4)), np.stack([tf, tf + 0.25], axis=1))
        # three segments covering the words, cut between words
        cuts = [0.0, float(iv[4, 1] + iv[5, 0]) / 2, float(iv[9, 1] + iv[10, 0]) / 2, end]
        for s in range(3):
            segments.append((cuts[s], cuts[s + 1], vid, s + 1, round(float(rng.uniform(-3, 3)), 1)))
    write_csd(os.path.join(folder, "TOY_TimestampedWords.csd"), "TOY_TimestampedWords", words)
    write_csd(os.path.join(folder, "TOY_COVAREP.csd"), "TOY_COVAREP", cov)
    write_csd(os.path.join(folder, "TOY_Visual_Facet_42.csd"), "TOY_Visual_Facet_42", facet, compression="gzip")
    write_csd(os.path.join(folder, "TOY_TimestampedWordVectors.csd"), "TOY_TimestampedWordVectors", glove)
    with open(os.path.join(folder, "OpinionLevelSentiment.csv"), "w") as f:
        for s in segments:
            f.write(f"{s[0]!r},{s[1]!r},{s[2]},{s[3]},{s[4]}\n")
    with open(os.path.join(folder, "toy_standard_folds.json"), "w") as f:
        json.dump({sp: [v for v, s in videos.items() if s == sp] for sp in SPLITS}, f)
    # The same labels as an SDK labels sequence (one row per segment, as in
    # CMU_MOSI_Opinion_Labels.csd); the Go test swaps it for the CSV.
    lab = {}
    for vid in videos:
        rows = sorted((s for s in segments if s[2] == vid), key=lambda s: s[3])
        lab[vid] = (np.array([[s[4]] for s in rows]), np.array([[s[0], s[1]] for s in rows]))
    write_csd(os.path.join(HERE, "cmu_sdk_Opinion_Labels.csd"), "TOY_Opinion_Labels", lab, compression="gzip")

    # Reference assembly.
    def kept_words(vid, start, end):
        feat, iv = words[vid]
        out = []
        for j in range(len(iv)):
            mid = (iv[j, 0] + iv[j, 1]) / 2
            w = feat[j, 0].decode()
            if start <= mid < end and w != "sp":
                out.append(j)
        return out

    def align(seq, vid, word_iv):
        feat, iv = seq[vid]
        feat = np.nan_to_num(feat.astype(np.float64), nan=0.0, neginf=0.0, posinf=0.0)
        rows = []
        for ws, we in word_iv:
            m = (iv[:, 0] < we) & (iv[:, 1] > ws)
            rows.append(feat[m].mean(axis=0) if m.any() else np.zeros(feat.shape[1]))
        return rows

    segs = []
    for s in segments:
        split = videos[s[2]]
        kw = kept_words(s[2], s[0], s[1])
        segs.append({"id": f"{s[2]}$_${s[3]}", "video": s[2], "clip": s[3], "start": s[0], "end": s[1],
                     "label": s[4], "split": split or "",
                     "text": " ".join(words[s[2]][0][j, 0].decode() for j in kw), "kw": kw})
    T = min(max(len(s["kw"]) for s in segs), 50)
    exp = {}
    for split in SPLITS:
        ss = [s for s in segs if s["split"] == split]
        ss.sort(key=lambda s: (s["video"], s["clip"]))
        n = len(ss)
        mods = {"text": np.zeros((n, T, 6)), "audio": np.zeros((n, T, 5)), "vision": np.zeros((n, T, 4))}
        ls = []
        for r, s in enumerate(ss):
            kw = s["kw"][-T:]
            wiv = [tuple(words[s["video"]][1][j]) for j in kw]
            for key, seq in (("text", glove), ("audio", cov), ("vision", facet)):
                for t, row in enumerate(align(seq, s["video"], wiv)):
                    mods[key][r, t] = row
            ls.append(max(len(kw), 1))
        exp[split] = {"n": n, "ids": [s["id"] for s in ss], "labels": [s["label"] for s in ss],
                      "raw_text": [s["text"] for s in ss],
                      "modalities": {k: seq_expect(v, ls) for k, v in mods.items()}}
    for s in segs:
        del s["kw"]
    return {"cmu_sdk": {"format": "cmu-sdk", "task": "regression", "splits": exp, "segments": segs}}


# ------------------------------------------------------------------- errors

def write_errors():
    """Each file has one defect; the Go test checks that the error names the
    file, the split and the key."""
    out = {}

    def mmsa_base():
        splits = {}
        for name in SPLITS:
            d, _, _, _ = mmsa_split(2, 3, 3, 3, False, d_text=2, d_audio=2, d_vision=2)
            splits[name] = d
        return splits

    s = mmsa_base()
    s["train"]["audio"] = s["train"]["audio"][:, :, 0]
    out["err_mmsa_shape.pkl"] = (s, "mmsa-pickle", "train", "audio")
    s = mmsa_base()
    del s["valid"]["vision"]
    out["err_mmsa_missing.pkl"] = (s, "mmsa-pickle", "valid", "vision")
    s = mmsa_base()
    s["test"]["audio"][0, 0, 0] = np.nan  # sample 0 step 0 is always a valid step
    out["err_mmsa_nan_feature.pkl"] = (s, "mmsa-pickle", "test", "audio")
    s = mmsa_base()
    s["train"]["regression_labels"][1] = np.nan
    out["err_mmsa_nan_label.pkl"] = (s, "mmsa-pickle", "train", "regression_labels")
    s = mmsa_base()
    s["valid"]["vision_lengths"][0] = 99
    out["err_mmsa_length.pkl"] = (s, "mmsa-pickle", "valid", "vision_lengths")

    def mult_base():
        return {name: {"text": np.ones((2, 3, 2), np.float32), "audio": np.ones((2, 3, 2), np.float32),
                       "vision": np.ones((2, 3, 2), np.float32), "labels": np.zeros((2, 1, 1), np.float32),
                       "id": np.array([[b"a_1", b"", b""], [b"a_2", b"", b""]])} for name in SPLITS}
    s = mult_base()
    s["test"]["labels"][0, 0, 0] = np.nan
    out["err_mult_nan_label.pkl"] = (s, "mult-pickle", "test", "labels")
    s = mult_base()
    s["train"]["labels"] = np.zeros((2, 4, 2), np.float32)
    out["err_mult_iemocap.pkl"] = (s, "mult-pickle", "train", "labels")

    def magbert_base():
        return {key: [((np.array(["a", "b"]), np.ones((2, 3)), np.ones((2, 4))), np.array([[0.5]]), f"v[{i}]")
                      for i in range(2)] for key in ("train", "dev", "test")}
    s = magbert_base()
    s["dev"][1][0][1][1, 2] = np.nan
    out["err_magbert_nan.pkl"] = (s, "magbert-pickle", "valid", "visual")
    s = magbert_base()
    del s["test"]
    out["err_magbert_missing.pkl"] = (s, "magbert-pickle", "test", "test")

    exp = {}
    for name, (obj, fmt, split, key) in out.items():
        with open(os.path.join(HERE, name), "wb") as f:
            pickle.dump(obj, f, protocol=4)
        exp[name] = {"format": fmt, "split": split, "key": key}
    return exp


def main():
    expected = {}
    expected.update(write_mmsa())
    expected.update(write_mult())
    expected.update(write_magbert())
    expected.update(write_urfunny(1))
    expected.update(write_urfunny(2))
    expected.update(write_cmu_sdk())
    errors = write_errors()
    expected.update(write_magbert("magbert_listwords_p2.pkl", 2, list_words=True))
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({"datasets": expected, "errors": errors}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
