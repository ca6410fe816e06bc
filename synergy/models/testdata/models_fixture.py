#!/usr/bin/python3
"""Reference outputs of the fusion models for synergy/models' fixture test.

Run with Debian's python3-torch:  /usr/bin/python3 models_fixture.py
Writes models_fixture.json next to this script (float64 throughout).

TFN, LMF and MFN are transcribed from thuiar/MMSA (models/singleTask/TFN.py,
LMF.py, MFN.py and subNets/FeatureNets.py), in evaluation mode (dropout off,
batch norm on its running statistics, which are set to random values).
Differences from MMSA, all matching synergo's documented choices:
  * the text LSTM of TFN/LMF is run on packed sequences, so its final state
    is the one at the last valid step (MMSA runs over the padding);
  * MFN runs on full-length sequences (MMSA has no masking; synergo's
    padding semantics are tested separately).
"lmf" is the original LMF (fusion straight to the prediction, Z = the
rank-wise products); "lmf+fused" synergo's extension (the fusion has
FUSED outputs followed by a linear head). "eflstm" is MMSA's EF_LSTM.py on
packed sequences (Z_m = the mean of the normalized inputs over valid
steps); "eflstm+embed" synergo's extension (per-modality linear embeddings
after the per-step batch norm, Z_m = their mean over valid steps). The
extension cases come first, so their random draws are those of the
fixture before the original cases were added.

Weights are exported in synergo's layout: Linear w = weight^T (in, out);
LSTM wx = weight_ih^T, wh = weight_hh^T, b = bias_ih + bias_hh; LMF factor
(d+1, r*out) with column k*out+o = factor[k, :, o].
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

torch.manual_seed(20261127)
torch.set_default_dtype(torch.float64)
B = 3
D = {"text": 6, "audio": 3, "vision": 4}
MODS = ["text", "audio", "vision"]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def linear(name, layer):
    return {name + ".w": flat(layer.weight.t()), name + ".b": flat(layer.bias)}


def lstm_params(name, weight_ih, weight_hh, bias_ih, bias_hh):
    return {name + ".wx": flat(weight_ih.t()), name + ".wh": flat(weight_hh.t()),
            name + ".b": flat(bias_ih + bias_hh)}


def randomize(module, scale=0.5):
    """Non-default weights so every path matters (biases included)."""
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-scale, scale)


def sequences(T, lengths):
    """Features N(0,1) on the valid steps, zero padding after; rounded to
    float32, the precision of synergo's batches."""
    out = {}
    for m in MODS:
        x = torch.randn(B, T[m], D[m]).float().double()
        for i, l in enumerate(lengths[m]):
            x[i, l:] = 0
        out[m] = x
    return out


def batchnorm(name, bn):
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    return ({name + ".gamma": flat(bn.weight), name + ".beta": flat(bn.bias)},
            {name + ".running_mean": flat(bn.running_mean), name + ".running_var": flat(bn.running_var)})


# --- TFN / LMF sub-networks (FeatureNets.py) ---------------------------------

class SubNet(nn.Module):
    def __init__(self, in_size, hidden):
        super().__init__()
        self.norm = nn.BatchNorm1d(in_size)
        self.linear_1 = nn.Linear(in_size, hidden)
        self.linear_2 = nn.Linear(hidden, hidden)
        self.linear_3 = nn.Linear(hidden, hidden)

    def forward(self, x):
        y = F.relu(self.linear_1(self.norm(x)))
        y = F.relu(self.linear_2(y))
        return F.relu(self.linear_3(y))

    def export(self, name):
        p, b = batchnorm(name + ".bn", self.norm)
        for k, l in enumerate([self.linear_1, self.linear_2, self.linear_3]):
            p.update(linear("%s.mlp.%d" % (name, k), l))
        return p, b


class TextSubNet(nn.Module):
    def __init__(self, in_size, hidden, out):
        super().__init__()
        self.rnn = nn.LSTM(in_size, hidden, batch_first=True)
        self.linear_1 = nn.Linear(hidden, out)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.rnn(packed)
        return self.linear_1(h[0])

    def export(self, name):
        r = self.rnn
        p = lstm_params(name + ".lstm", r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0)
        p.update(linear(name + ".out", self.linear_1))
        return p


def unimodal(prefix, cfg):
    text = TextSubNet(D["text"], cfg["text_hidden"], cfg["text_out"])
    audio = SubNet(D["audio"], cfg["audio_hidden"])
    vision = SubNet(D["vision"], cfg["vision_hidden"])
    for n in (text, audio, vision):
        randomize(n)
    params, buffers = text.export(prefix + ".text"), {}
    for name, net in (("audio", audio), ("vision", vision)):
        p, b = net.export(prefix + "." + name)
        params.update(p)
        buffers.update(b)
    return text, audio, vision, params, buffers


def late_inputs(lengths, text, audio, vision, x):
    zt = text(x["text"], lengths["text"])
    # MMSA averages audio and vision over the padded time axis.
    za = audio(x["audio"].mean(dim=1))
    zv = vision(x["vision"].mean(dim=1))
    return zt, za, zv


def tfn_case():
    cfg = {"text_hidden": 4, "audio_hidden": 2, "vision_hidden": 3, "text_out": 3, "post_fusion_dim": 5,
           "audio_dropout": 0.1, "vision_dropout": 0.2, "text_dropout": 0.3, "post_fusion_dropout": 0.4,
           "output_range": [-3, 3]}
    T = {"text": 5, "audio": 3, "vision": 4}
    lengths = {"text": [5, 2, 4], "audio": [3, 1, 2], "vision": [4, 4, 1]}
    text, audio, vision, params, buffers = unimodal("tfn", cfg)
    fused_in = (cfg["audio_hidden"] + 1) * (cfg["vision_hidden"] + 1) * (cfg["text_out"] + 1)
    post1 = nn.Linear(fused_in, cfg["post_fusion_dim"])
    post2 = nn.Linear(cfg["post_fusion_dim"], cfg["post_fusion_dim"])
    post3 = nn.Linear(cfg["post_fusion_dim"], 1)
    for n in (post1, post2, post3):
        randomize(n)
    params.update(linear("tfn.post1", post1))
    params.update(linear("tfn.post2", post2))
    params.update(linear("tfn.post3", post3))
    for n in (audio, vision):
        n.eval()
    x = sequences(T, lengths)
    with torch.no_grad():
        zt, za, zv = late_inputs(lengths, text, audio, vision, x)
        one = torch.ones(B, 1)
        _a, _v, _t = torch.cat((one, za), 1), torch.cat((one, zv), 1), torch.cat((one, zt), 1)
        fusion = torch.bmm(_a.unsqueeze(2), _v.unsqueeze(1)).view(B, -1, 1)
        fusion = torch.bmm(fusion, _t.unsqueeze(1)).view(B, -1)
        y1 = F.relu(post1(fusion))
        z = F.relu(post2(y1))
        pred = torch.sigmoid(post3(z)) * 6 - 3
    return cfg, T, lengths, x, params, buffers, (zt, za, zv), z, pred.view(-1)


def lmf_fused_case():
    cfg = {"text_hidden": 4, "audio_hidden": 2, "vision_hidden": 3, "text_out": 2, "rank": 3, "fused_dim": 4,
           "audio_dropout": 0.1, "vision_dropout": 0.2, "text_dropout": 0.3}
    T = {"text": 5, "audio": 3, "vision": 4}
    lengths = {"text": [3, 5, 1], "audio": [2, 3, 3], "vision": [1, 2, 4]}
    text, audio, vision, params, buffers = unimodal("lmf", cfg)
    r, out = cfg["rank"], cfg["fused_dim"]
    width = {"text": cfg["text_out"], "audio": cfg["audio_hidden"], "vision": cfg["vision_hidden"]}
    factors = {m: torch.empty(r, width[m] + 1, out).uniform_(-0.8, 0.8) for m in MODS}
    fusion_weights = torch.empty(1, r).uniform_(-1, 1)
    fusion_bias = torch.empty(1, out).uniform_(-0.5, 0.5)
    head = nn.Linear(out, 1)
    randomize(head)
    for m in MODS:
        params["lmf.%s_factor" % m] = flat(factors[m].permute(1, 0, 2).reshape(width[m] + 1, r * out))
    params["lmf.fusion_weights"] = flat(fusion_weights)
    params["lmf.fusion_bias"] = flat(fusion_bias)
    params.update(linear("lmf.head", head))
    for n in (audio, vision):
        n.eval()
    x = sequences(T, lengths)
    with torch.no_grad():
        zt, za, zv = late_inputs(lengths, text, audio, vision, x)
        one = torch.ones(B, 1)
        fa = torch.matmul(torch.cat((one, za), 1), factors["audio"])
        fv = torch.matmul(torch.cat((one, zv), 1), factors["vision"])
        ft = torch.matmul(torch.cat((one, zt), 1), factors["text"])
        zy = fa * fv * ft
        z = torch.matmul(fusion_weights, zy.permute(1, 0, 2)).squeeze(1) + fusion_bias
        pred = head(z)
    return cfg, T, lengths, x, params, buffers, (zt, za, zv), z, pred.view(-1)


# --- MFN (MFN.py) ------------------------------------------------------------

def mfn_case():
    cfg = {"text_hidden": 4, "audio_hidden": 2, "vision_hidden": 3, "memsize": 5, "windowsize": 2,
           "nn1": {"shapes": 4, "drop": 0.2}, "nn2": {"shapes": 3, "drop": 0.1},
           "gamma1": {"shapes": 4, "drop": 0.3}, "gamma2": {"shapes": 3, "drop": 0.2},
           "out": {"shapes": 4, "drop": 0.1}}
    Tn = 4
    T = {m: Tn for m in MODS}
    lengths = {m: [Tn] * B for m in MODS}
    dh = [cfg["text_hidden"], cfg["audio_hidden"], cfg["vision_hidden"]]
    total, mem = sum(dh), cfg["memsize"]
    att, gam = 2 * total, 2 * total + mem
    cells = [nn.LSTMCell(D[m], h) for m, h in zip(MODS, dh)]
    att1_fc1, att1_fc2 = nn.Linear(att, cfg["nn1"]["shapes"]), nn.Linear(cfg["nn1"]["shapes"], att)
    att2_fc1, att2_fc2 = nn.Linear(att, cfg["nn2"]["shapes"]), nn.Linear(cfg["nn2"]["shapes"], mem)
    g1_fc1, g1_fc2 = nn.Linear(gam, cfg["gamma1"]["shapes"]), nn.Linear(cfg["gamma1"]["shapes"], mem)
    g2_fc1, g2_fc2 = nn.Linear(gam, cfg["gamma2"]["shapes"]), nn.Linear(cfg["gamma2"]["shapes"], mem)
    out_fc1, out_fc2 = nn.Linear(total + mem, cfg["out"]["shapes"]), nn.Linear(cfg["out"]["shapes"], 1)
    mods = cells + [att1_fc1, att1_fc2, att2_fc1, att2_fc2, g1_fc1, g1_fc2, g2_fc1, g2_fc2, out_fc1, out_fc2]
    for n in mods:
        randomize(n, 0.7)
    params = {}
    for m, c in zip(MODS, cells):
        params.update(lstm_params("mfn.lstm_" + m, c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh))
    for name, (a, b) in {"mfn.att1": (att1_fc1, att1_fc2), "mfn.att2": (att2_fc1, att2_fc2),
                         "mfn.gamma1": (g1_fc1, g1_fc2), "mfn.gamma2": (g2_fc1, g2_fc2)}.items():
        params.update(linear(name + ".0", a))
        params.update(linear(name + ".1", b))
    params.update(linear("mfn.out1", out_fc1))
    params.update(linear("mfn.out2", out_fc2))
    x = sequences(T, lengths)
    with torch.no_grad():
        h = [torch.zeros(B, d) for d in dh]
        c = [torch.zeros(B, d) for d in dh]
        u = torch.zeros(B, mem)
        for t in range(Tn):
            prev_c = torch.cat(c, 1)
            for k, m in enumerate(MODS):
                h[k], c[k] = cells[k](x[m][:, t], (h[k], c[k]))
            c_star = torch.cat([prev_c, torch.cat(c, 1)], 1)
            attention = F.softmax(att1_fc2(F.relu(att1_fc1(c_star))), dim=1)
            attended = attention * c_star
            c_hat = torch.tanh(att2_fc2(F.relu(att2_fc1(attended))))
            both = torch.cat([attended, u], 1)
            gamma1 = torch.sigmoid(g1_fc2(F.relu(g1_fc1(both))))
            gamma2 = torch.sigmoid(g2_fc2(F.relu(g2_fc1(both))))
            u = gamma1 * u + gamma2 * c_hat
        z = F.relu(out_fc1(torch.cat(h + [u], 1)))
        pred = out_fc2(z)
    return cfg, T, lengths, x, params, {}, tuple(h), z, pred.view(-1)


# --- EF-LSTM (EF_LSTM.py + synergo's embeddings) ------------------------------

def eflstm_embed_case():
    cfg = {"hidden_dims": 4, "num_layers": 2, "dropout": 0.2, "embed": True, "embed_dims": [3, 2, 2],
           "time_step_batch_norm": True}
    Tn, H = 4, cfg["hidden_dims"]
    T = {m: Tn for m in MODS}
    aligned = [4, 2, 3]
    lengths = {m: aligned for m in MODS}
    E = dict(zip(MODS, cfg["embed_dims"]))
    norm = nn.BatchNorm1d(Tn)
    embeds = {m: nn.Linear(D[m], E[m]) for m in MODS}
    lstm = nn.LSTM(sum(E.values()), H, num_layers=2, batch_first=True)
    lin, out = nn.Linear(H, H), nn.Linear(H, 1)
    for n in list(embeds.values()) + [lstm, lin, out]:
        randomize(n, 0.7)
    params, buffers = batchnorm("eflstm.bn", norm)
    for m in MODS:
        params.update(linear("eflstm.embed_" + m, embeds[m]))
    for l in range(2):
        params.update(lstm_params("eflstm.lstm%d" % l, getattr(lstm, "weight_ih_l%d" % l),
                                  getattr(lstm, "weight_hh_l%d" % l), getattr(lstm, "bias_ih_l%d" % l),
                                  getattr(lstm, "bias_hh_l%d" % l)))
    params.update(linear("eflstm.linear", lin))
    params.update(linear("eflstm.out", out))
    norm.eval()
    x = sequences(T, lengths)
    with torch.no_grad():
        cat = norm(torch.cat([x[m] for m in MODS], dim=-1))
        parts = torch.split(cat, [D[m] for m in MODS], dim=-1)
        emb = [embeds[m](p) for m, p in zip(MODS, parts)]
        zs = []
        for e in emb:
            zs.append(torch.stack([e[i, :l].mean(0) for i, l in enumerate(aligned)]))
        packed = pack_padded_sequence(torch.cat(emb, -1), torch.tensor(aligned), batch_first=True,
                                      enforce_sorted=False)
        _, (h, _) = lstm(packed)
        z = F.relu(lin(h[-1]))
        pred = out(z)
    return cfg, T, lengths, x, params, buffers, tuple(zs), z, pred.view(-1)


def lmf_case():
    """The original: output_dim 1, the fusion is the prediction."""
    cfg = {"text_hidden": 4, "audio_hidden": 3, "vision_hidden": 2, "text_out": 3, "rank": 4, "fused_dim": 0,
           "audio_dropout": 0.1, "vision_dropout": 0.2, "text_dropout": 0.3, "apply_text_dropout": True}
    T = {"text": 4, "audio": 5, "vision": 3}
    lengths = {"text": [4, 1, 2], "audio": [5, 3, 1], "vision": [2, 3, 3]}
    text, audio, vision, params, buffers = unimodal("lmf", cfg)
    r = cfg["rank"]
    width = {"text": cfg["text_out"], "audio": cfg["audio_hidden"], "vision": cfg["vision_hidden"]}
    factors = {m: torch.empty(r, width[m] + 1, 1).uniform_(-0.8, 0.8) for m in MODS}
    fusion_weights = torch.empty(1, r).uniform_(-1, 1)
    fusion_bias = torch.empty(1, 1).uniform_(-0.5, 0.5)
    for m in MODS:
        params["lmf.%s_factor" % m] = flat(factors[m].permute(1, 0, 2).reshape(width[m] + 1, r))
    params["lmf.fusion_weights"] = flat(fusion_weights)
    params["lmf.fusion_bias"] = flat(fusion_bias)
    for n in (audio, vision):
        n.eval()
    x = sequences(T, lengths)
    with torch.no_grad():
        zt, za, zv = late_inputs(lengths, text, audio, vision, x)
        one = torch.ones(B, 1)
        fa = torch.matmul(torch.cat((one, za), 1), factors["audio"])
        fv = torch.matmul(torch.cat((one, zv), 1), factors["vision"])
        ft = torch.matmul(torch.cat((one, zt), 1), factors["text"])
        zy = fa * fv * ft  # (r, B, 1)
        # LMF.forward: the weighted rank sum is the output.
        pred = torch.matmul(fusion_weights, zy.permute(1, 0, 2)).squeeze(1) + fusion_bias
        z = zy.permute(1, 0, 2).reshape(B, r)  # the input of the rank sum
    return cfg, T, lengths, x, params, buffers, (zt, za, zv), z, pred.view(-1)


def eflstm_case():
    """MMSA's EF_LSTM: per-step batch norm of the concatenation, stacked LSTM."""
    cfg = {"hidden_dims": 3, "num_layers": 2, "dropout": 0.3, "embed": False, "time_step_batch_norm": True}
    Tn, H = 5, cfg["hidden_dims"]
    T = {m: Tn for m in MODS}
    aligned = [2, 5, 4]
    lengths = {m: aligned for m in MODS}
    norm = nn.BatchNorm1d(Tn)
    lstm = nn.LSTM(sum(D.values()), H, num_layers=2, batch_first=True)
    lin, out = nn.Linear(H, H), nn.Linear(H, 1)
    for n in (lstm, lin, out):
        randomize(n, 0.7)
    params, buffers = batchnorm("eflstm.bn", norm)
    for l in range(2):
        params.update(lstm_params("eflstm.lstm%d" % l, getattr(lstm, "weight_ih_l%d" % l),
                                  getattr(lstm, "weight_hh_l%d" % l), getattr(lstm, "bias_ih_l%d" % l),
                                  getattr(lstm, "bias_hh_l%d" % l)))
    params.update(linear("eflstm.linear", lin))
    params.update(linear("eflstm.out", out))
    norm.eval()
    x = sequences(T, lengths)
    with torch.no_grad():
        cat = norm(torch.cat([x[m] for m in MODS], dim=-1))
        parts = torch.split(cat, [D[m] for m in MODS], dim=-1)
        zs = [torch.stack([p[i, :l].mean(0) for i, l in enumerate(aligned)]) for p in parts]
        packed = pack_padded_sequence(cat, torch.tensor(aligned), batch_first=True, enforce_sorted=False)
        _, (h, _) = lstm(packed)
        z = F.relu(lin(h[-1]))
        pred = out(z)
    return cfg, T, lengths, x, params, buffers, tuple(zs), z, pred.view(-1)


fixture = {"torch_version": torch.__version__, "batch": B, "dims": D, "models": {}}
for name, case in (("tfn", tfn_case), ("lmf+fused", lmf_fused_case), ("mfn", mfn_case),
                   ("eflstm+embed", eflstm_embed_case), ("lmf", lmf_case), ("eflstm", eflstm_case)):
    cfg, T, lengths, x, params, buffers, zs, z, pred = case()
    fixture["models"][name] = {
        "config": cfg, "steps": T, "lengths": lengths,
        "inputs": {m: flat(x[m]) for m in MODS},
        "params": params, "buffers": buffers,
        "unimodal": [flat(v) for v in zs], "fused": flat(z), "pred": flat(pred),
    }

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models_fixture.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=None)
print("wrote", path, os.path.getsize(path), "bytes")
