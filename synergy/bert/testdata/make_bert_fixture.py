#!/usr/bin/python3
"""Reference fixtures for synergy/bert, made with plain PyTorch (no transformers).

Run with Debian's python3 (python3-torch, python3-numpy) from this folder:
    /usr/bin/python3 make_bert_fixture.py

Writes:
  tiny_checkpoint/config.json         Hugging Face BertConfig fields of a tiny random BERT
  tiny_checkpoint/vocab.txt           its WordPiece vocabulary (one token a line, id = line number)
  tiny_checkpoint/model.safetensors   the state dict, F32, written here with struct + json
  tiny_checkpoint/pytorch_model.bin   the same state dict via torch.save (zip format)
  bert_fixture.json                   inputs and expected outputs (sequence and pooled), float32 and float64
  dtypes.safetensors                  one small tensor stored as F64, F32, F16, BF16, I64 (conversion test)
  dtypes.json                         the values torch reads back from each, as float64

The model below is a transcription of Hugging Face's BertModel (modeling_bert.py) with the same parameter
names: embeddings (word + position + token type, LayerNorm, dropout), N post-LayerNorm encoder layers
(multi-head self-attention with an additive padding mask (1 - mask) * -10000, a GELU (erf) feed-forward),
and the pooler tanh(W h_[CLS] + b). Extra tensors that Go must ignore and list are added: cls.* heads and the
position_ids buffer of older checkpoints.
"""
import collections
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CKPT = os.path.join(HERE, "tiny_checkpoint")

VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list("!\"#$%&'(),-./:;?")
    + ["a", "b", "c", "d", "e", "i", "n", "s", "t", "the", "movie", "was", "not", "bad", "good", "great",
       "i", "it", "love", "hate", "cafe", "naive", "un", "##aff", "##able", "##s", "##ing", "##ed", "play",
       "run", "##n", "##e", "##a", "##t", "##i", "##c", "##f", "resume", "over", "hyper", "##act", "##ive",
       "中", "文", "日", "本", "é", "ü", "hello", "world", "really", "so", "very", "and", "but", "or", "to",
       "1", "2", "##0", "##9", "zurich", "uber", "creme", "brulee", "fiance"]
)
# The vocabulary must not repeat a token.
seen = set()
VOCAB = [t for t in VOCAB if not (t in seen or seen.add(t))]

CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "vocab_size": len(VOCAB),
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 16,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
}


def make_state_dict(cfg, gen):
    """Random parameters with Hugging Face names and (out, in) Linear weights."""
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    sd = collections.OrderedDict()

    def rnd(*shape, scale=0.5):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * scale

    def ln(prefix):
        sd[prefix + ".weight"] = 1 + rnd(H, scale=0.2)
        sd[prefix + ".bias"] = rnd(H, scale=0.2)

    def linear(prefix, out_f, in_f):
        sd[prefix + ".weight"] = rnd(out_f, in_f, scale=1 / math.sqrt(in_f))
        sd[prefix + ".bias"] = rnd(out_f, scale=0.1)

    sd["bert.embeddings.word_embeddings.weight"] = rnd(V, H)
    sd["bert.embeddings.position_embeddings.weight"] = rnd(cfg["max_position_embeddings"], H)
    sd["bert.embeddings.token_type_embeddings.weight"] = rnd(cfg["type_vocab_size"], H)
    ln("bert.embeddings.LayerNorm")
    for i in range(cfg["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % i
        for n in ("query", "key", "value"):
            linear(p + "attention.self." + n, H, H)
        linear(p + "attention.output.dense", H, H)
        ln(p + "attention.output.LayerNorm")
        linear(p + "intermediate.dense", I, H)
        linear(p + "output.dense", H, I)
        ln(p + "output.LayerNorm")
    linear("bert.pooler.dense", H, H)
    # Extras a real checkpoint carries (BertForPreTraining heads, the position_ids buffer).
    sd["bert.embeddings.position_ids"] = torch.arange(cfg["max_position_embeddings"]).unsqueeze(0)
    sd["cls.predictions.bias"] = rnd(V, scale=0.1)
    sd["cls.seq_relationship.weight"] = rnd(2, H)
    return sd


def bert_forward(sd, cfg, ids, types, mask, dtype):
    """Hugging Face BertModel.forward in eval mode, transcribed with plain torch ops."""
    P = {k: v.to(dtype) for k, v in sd.items() if v.is_floating_point()}
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = H // nh
    eps = cfg["layer_norm_eps"]
    B, L = ids.shape

    def lin(x, prefix):
        return x @ P[prefix + ".weight"].T + P[prefix + ".bias"]

    def layer_norm(x, prefix):
        return torch.nn.functional.layer_norm(x, (H,), P[prefix + ".weight"], P[prefix + ".bias"], eps)

    def gelu(x):
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))

    pos = torch.arange(L).unsqueeze(0).expand(B, L)
    e = (P["bert.embeddings.word_embeddings.weight"][ids]
         + P["bert.embeddings.position_embeddings.weight"][pos]
         + P["bert.embeddings.token_type_embeddings.weight"][types])
    h = layer_norm(e, "bert.embeddings.LayerNorm")
    ext = (1.0 - mask.to(dtype))[:, None, None, :] * -10000.0  # (B, 1, 1, L)
    for i in range(cfg["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % i

        def heads(x):
            return x.view(B, L, nh, dh).permute(0, 2, 1, 3)  # (B, nh, L, dh)

        q = heads(lin(h, p + "attention.self.query"))
        k = heads(lin(h, p + "attention.self.key"))
        v = heads(lin(h, p + "attention.self.value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + ext
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, L, H)
        a = layer_norm(lin(ctx, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
        f = gelu(lin(a, p + "intermediate.dense"))
        h = layer_norm(lin(f, p + "output.dense") + a, p + "output.LayerNorm")
    pooled = torch.tanh(lin(h[:, 0], "bert.pooler.dense"))
    return h, pooled


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format: u64 little-endian header size, JSON header, raw little-endian data."""
    header = {}
    blobs = []
    offset = 0
    codes = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64"}
    for name, t in tensors.items():
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # pad with spaces to 8-byte alignment, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def flat(t):
    return [float(x) for x in t.reshape(-1).tolist()]


def main():
    os.makedirs(CKPT, exist_ok=True)
    gen = torch.Generator().manual_seed(20240607)
    cfg = CONFIG
    sd = make_state_dict(cfg, gen)

    with open(os.path.join(CKPT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(CKPT, "vocab.txt"), "w", encoding="utf-8") as f:
        for t in VOCAB:
            f.write(t + "\n")
    write_safetensors(os.path.join(CKPT, "model.safetensors"), sd, {"format": "pt"})
    torch.save(sd, os.path.join(CKPT, "pytorch_model.bin"))

    # Inputs: batch 3, length 8, padded rows of lengths 8, 5 and 3; both token types.
    B, L = 3, 8
    lengths = [8, 5, 3]
    ids = torch.randint(5, cfg["vocab_size"], (B, L), generator=gen)
    types = torch.zeros(B, L, dtype=torch.long)
    mask = torch.zeros(B, L, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, 0] = VOCAB.index("[CLS]")
        ids[b, n - 1] = VOCAB.index("[SEP]")
        ids[b, n:] = VOCAB.index("[PAD]")
        mask[b, :n] = 1
    types[0, 4:] = 1  # a sentence pair in row 0
    types[1, 3:5] = 1

    with torch.no_grad():
        seq32, pooled32 = bert_forward(sd, cfg, ids, types, mask, torch.float32)
        seq64, pooled64 = bert_forward(sd, cfg, ids, types, mask, torch.float64)
    fixture = {
        "batch": B, "seq_len": L, "hidden": cfg["hidden_size"],
        "input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
        "sequence_output_f32": flat(seq32), "pooled_output_f32": flat(pooled32),
        "sequence_output_f64": flat(seq64), "pooled_output_f64": flat(pooled64),
        "ignored": sorted(k for k in sd if not k.startswith("bert.") or k.endswith("position_ids")),
    }
    with open(os.path.join(HERE, "bert_fixture.json"), "w") as f:
        json.dump(fixture, f)
        f.write("\n")

    # dtype conversion fixture: the same values in five storage types, and what torch reads back.
    vals = torch.tensor([[0.0, -0.0, 1.0, -2.5, 3.14159265358979, 65504.0],
                         [1e-8, 6.1e-5, -1e-3, 1234.5678, 0.1, -7.0]], dtype=torch.float64)
    stored = collections.OrderedDict([
        ("x_f64", vals), ("x_f32", vals.float()), ("x_f16", vals.half()), ("x_bf16", vals.bfloat16()),
        ("x_i64", vals.round().long()),
    ])
    write_safetensors(os.path.join(HERE, "dtypes.safetensors"), stored)
    with open(os.path.join(HERE, "dtypes.json"), "w") as f:
        json.dump({k: {"shape": list(v.shape), "values": flat(v.double())} for k, v in stored.items()}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
