#!/usr/bin/python3
"""Reference values for the sub-modules of synergy/models' BERT-based models (MAG-BERT, MISA, MMIM).

Run with Debian's python3-torch from this folder:
    /usr/bin/python3 bert_models_fixture.py
Writes bert_models_fixture.json (float64 throughout). The code below transcribes the originals:
  mag    WasifurRahman/BERT_multimodal_transformer modeling.py MAG.forward (without its final dropout),
         with a token whose shift is exactly zero (the torch.where(hm_norm == 0, 1, hm_norm) rule)
  cmd    declare-lab/MISA utils/functions.py CMD(x, y, 5)
  diff   declare-lab/MISA utils/functions.py DiffLoss(x, y) and its gradient (detached norms)
  mmilb  declare-lab/Multimodal-Infomax encoders.py MMILB lld and the entropy H of two classes
  cpc    declare-lab/Multimodal-Infomax encoders.py CPC (one layer)
  misa_modules  MISA's extract_features (packed bidirectional LSTMs, LayerNorm between) with the
         gradients of a weighted sum of its output (input and every parameter) on a padded batch, and
         the fusion nn.TransformerEncoderLayer(d_model, nhead=2) in eval mode
Matrices are row-major; Linear weights are given in torch's (out, in) layout.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(11)
D = torch.float64


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def mag():
    N, H, Dv, Da, beta = 5, 6, 3, 4, 0.8
    t = torch.randn(N, H, dtype=D)
    v = torch.randn(N, Dv, dtype=D)
    a = torch.randn(N, Da, dtype=D)
    v[0].zero_()
    a[0].zero_()
    t[0] = t[0] / t[0].norm() * 0.5  # zero shift: α = β·0.5/(1 + ε) < 1 through the replaced norm
    p = {
        "W_hv": torch.randn(H, Dv + H, dtype=D) * 0.5, "b_hv": torch.randn(H, dtype=D) * 0.1,
        "W_ha": torch.randn(H, Da + H, dtype=D) * 0.5, "b_ha": torch.randn(H, dtype=D) * 0.1,
        "W_v": torch.randn(H, Dv, dtype=D) * 0.5, "b_v": torch.zeros(H, dtype=D),
        "W_a": torch.randn(H, Da, dtype=D) * 0.5, "b_a": torch.zeros(H, dtype=D),
        "ln_w": 1 + 0.2 * torch.randn(H, dtype=D), "ln_b": 0.2 * torch.randn(H, dtype=D),
    }
    eps = 1e-6
    weight_v = F.relu(torch.cat((v, t), dim=-1) @ p["W_hv"].T + p["b_hv"])
    weight_a = F.relu(torch.cat((a, t), dim=-1) @ p["W_ha"].T + p["b_ha"])
    h_m = weight_v * (v @ p["W_v"].T + p["b_v"]) + weight_a * (a @ p["W_a"].T + p["b_a"])
    em_norm = t.norm(p=2, dim=-1)
    hm_norm = h_m.norm(p=2, dim=-1)
    hm_norm = torch.where(hm_norm == 0, torch.ones_like(hm_norm), hm_norm)
    alpha = torch.min(em_norm / (hm_norm + eps) * beta, torch.ones_like(em_norm)).unsqueeze(-1)
    out = F.layer_norm(alpha * h_m + t, (H,), p["ln_w"], p["ln_b"], 1e-5)
    assert float(h_m[0].norm()) == 0.0
    return {"n": N, "h": H, "dv": Dv, "da": Da, "beta": beta, "t": flat(t), "v": flat(v), "a": flat(a),
            "params": {k: flat(x) for k, x in p.items()}, "alpha": flat(alpha), "out": flat(out)}


def cmd_loss(x1, x2, n_moments):
    def matchnorm(a, b):
        return torch.sum((a - b) ** 2) ** 0.5

    mx1, mx2 = torch.mean(x1, 0), torch.mean(x2, 0)
    sx1, sx2 = x1 - mx1, x2 - mx2
    scms = matchnorm(mx1, mx2)
    for i in range(n_moments - 1):
        k = i + 2
        scms = scms + matchnorm(torch.mean(sx1 ** k, 0), torch.mean(sx2 ** k, 0))
    return scms


def diff_loss(input1, input2):
    batch_size = input1.size(0)
    input1 = input1.view(batch_size, -1)
    input2 = input2.view(batch_size, -1)
    input1 = input1 - torch.mean(input1, dim=0, keepdims=True)
    input2 = input2 - torch.mean(input2, dim=0, keepdims=True)
    n1 = torch.norm(input1, p=2, dim=1, keepdim=True).detach()
    input1_l2 = input1.div(n1.expand_as(input1) + 1e-6)
    n2 = torch.norm(input2, p=2, dim=1, keepdim=True).detach()
    input2_l2 = input2.div(n2.expand_as(input2) + 1e-6)
    return torch.mean((input1_l2.t().mm(input2_l2)).pow(2))


def misa():
    x = torch.sigmoid(torch.randn(6, 4, dtype=D))
    y = torch.sigmoid(torch.randn(6, 4, dtype=D) * 1.5)
    xg = x.clone().requires_grad_(True)
    yg = y.clone().requires_grad_(True)
    d = diff_loss(xg, yg)
    d.backward()
    return {"rows": 6, "cols": 4, "x": flat(x), "y": flat(y), "cmd": float(cmd_loss(x, y, 5)),
            "diff": float(d), "diff_grad_x": flat(xg.grad), "diff_grad_y": flat(yg.grad)}


def mmim():
    B, dx, dy, dz = 8, 5, 8, 6
    x = torch.randn(B, dx, dtype=D)
    y = torch.randn(B, dy, dtype=D)
    z = torch.tanh(torch.randn(B, dz, dtype=D))
    labels = torch.tensor([1.2, -0.4, 0.0, 2.0, -1.5, 0.6, -2.2, 0.8], dtype=D)
    p = {
        "mu0_w": torch.randn(dy, dx, dtype=D) * 0.4, "mu0_b": torch.randn(dy, dtype=D) * 0.1,
        "mu1_w": torch.randn(dy, dy, dtype=D) * 0.4, "mu1_b": torch.randn(dy, dtype=D) * 0.1,
        "lv0_w": torch.randn(dy, dx, dtype=D) * 0.4, "lv0_b": torch.randn(dy, dtype=D) * 0.1,
        "lv1_w": torch.randn(dy, dy, dtype=D) * 0.4, "lv1_b": torch.randn(dy, dtype=D) * 0.1,
        "ent_w": torch.randn(dy // 4, dy, dtype=D) * 0.6, "ent_b": torch.randn(dy // 4, dtype=D) * 0.1,
        "cpc_w": torch.randn(dx, dz, dtype=D) * 0.5, "cpc_b": torch.randn(dx, dtype=D) * 0.1,
    }
    mu = F.relu(x @ p["mu0_w"].T + p["mu0_b"]) @ p["mu1_w"].T + p["mu1_b"]
    logvar = F.relu(x @ p["lv0_w"].T + p["lv0_b"]) @ p["lv1_w"].T + p["lv1_b"]
    positive = -(mu - y) ** 2 / 2. / torch.exp(logvar)
    lld = torch.mean(torch.sum(positive, -1))
    # Entropy over the current batch and a memory of one earlier batch (MMILB.forward with mem).
    ye = torch.tanh(y @ p["ent_w"].T + p["ent_b"])
    mem_y = torch.tanh(torch.randn(B, dy // 4, dtype=D))
    mem_labels = torch.tensor([0.5, 1.1, -0.3, -2.0, 0.2, -0.9, 1.7, -0.1], dtype=D)
    pos_all = torch.cat([mem_y[mem_labels > 0], ye[labels > 0]], dim=0)
    neg_all = torch.cat([mem_y[mem_labels < 0], ye[labels < 0]], dim=0)
    mu_pos, mu_neg = pos_all.mean(dim=0), neg_all.mean(dim=0)
    sigma_pos = torch.mean(torch.bmm((pos_all - mu_pos).unsqueeze(-1), (pos_all - mu_pos).unsqueeze(1)), dim=0)
    sigma_neg = torch.mean(torch.bmm((neg_all - mu_neg).unsqueeze(-1), (neg_all - mu_neg).unsqueeze(1)), dim=0)
    H = 0.25 * (torch.logdet(sigma_pos) + torch.logdet(sigma_neg))
    # CPC(x_size=dx, y_size=dz): x_pred = net(z), NCE against x.
    x_pred = z @ p["cpc_w"].T + p["cpc_b"]
    x_pred = x_pred / x_pred.norm(dim=1, keepdim=True)
    xn = x / x.norm(dim=1, keepdim=True)
    pos = torch.sum(xn * x_pred, dim=-1)
    neg = torch.logsumexp(torch.matmul(xn, x_pred.t()), dim=-1)
    nce = -(pos - neg).mean()
    return {"batch": B, "dx": dx, "dy": dy, "dz": dz, "x": flat(x), "y": flat(y), "z": flat(z),
            "labels": flat(labels), "memory": flat(mem_y), "memory_labels": flat(mem_labels),
            "params": {k: flat(v) for k, v in p.items()}, "lld": float(lld), "entropy": float(H), "nce": float(nce)}


def lstm_params(lstm, suffix):
    """Our layout: wx (in, 4H) = weight_ih^T, wh (H, 4H) = weight_hh^T, b = bias_ih + bias_hh."""
    return {"wx": flat(getattr(lstm, "weight_ih_l0" + suffix).T), "wh": flat(getattr(lstm, "weight_hh_l0" + suffix).T),
            "b": flat(getattr(lstm, "bias_ih_l0" + suffix) + getattr(lstm, "bias_hh_l0" + suffix))}


def misa_encoder_gradients(x, lengths, rnn1, rnn2, ln, B):
    """The gradients of L = Σ R ⊙ utterance through extract_features (packed sequences: nothing at a
    padded step reaches L) with respect to the input (stored (B, T, d); zero at padded steps) and every
    parameter, in our layout. R comes from its own generator, so the other values of this file do not
    change."""
    gen = torch.Generator().manual_seed(12)
    xg = x.clone().requires_grad_(True)
    for prm in list(rnn1.parameters()) + list(rnn2.parameters()) + list(ln.parameters()):
        prm.grad = None
    packed = torch.nn.utils.rnn.pack_padded_sequence(xg, lengths, enforce_sorted=False)
    packed_h1, (final_h1, _) = rnn1(packed)
    padded_h1, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_h1)
    normed_h1 = ln(padded_h1)
    packed_normed_h1 = torch.nn.utils.rnn.pack_padded_sequence(normed_h1, lengths, enforce_sorted=False)
    _, (final_h2, _) = rnn2(packed_normed_h1)
    utt = torch.cat((final_h1, final_h2), dim=2).permute(1, 0, 2).contiguous().view(B, -1)
    r = torch.randn(utt.shape, dtype=D, generator=gen)
    (r * utt).sum().backward()

    def lstm_grads(lstm, suffix):
        return {"wx": flat(getattr(lstm, "weight_ih_l0" + suffix).grad.T),
                "wh": flat(getattr(lstm, "weight_hh_l0" + suffix).grad.T),
                "b": flat(getattr(lstm, "bias_ih_l0" + suffix).grad)}  # = the grad of bias_hh

    return {"weights": flat(r), "x": flat(xg.grad.permute(1, 0, 2)),
            "rnn1_fwd": lstm_grads(rnn1, ""), "rnn1_bwd": lstm_grads(rnn1, "_reverse"),
            "rnn2_fwd": lstm_grads(rnn2, ""), "rnn2_bwd": lstm_grads(rnn2, "_reverse"),
            "ln_w": flat(ln.weight.grad), "ln_b": flat(ln.bias.grad)}


def misa_encoders():
    """MISA's extract_features (two packed bidirectional LSTMs with a LayerNorm between) and the fusion
    TransformerEncoderLayer(d_model=H, nhead=2) in eval mode."""
    B, T, d = 3, 5, 3
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(T, B, d, dtype=D)  # MISA's sequences are (T, B, d)
    for b, n in enumerate(lengths.tolist()):
        x[n:, b] = 0
    rnn1 = torch.nn.LSTM(d, d, bidirectional=True).double()
    rnn2 = torch.nn.LSTM(2 * d, d, bidirectional=True).double()
    ln = torch.nn.LayerNorm(2 * d).double()
    with torch.no_grad():
        ln.weight.copy_(1 + 0.2 * torch.randn(2 * d, dtype=D))
        ln.bias.copy_(0.2 * torch.randn(2 * d, dtype=D))
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        packed_h1, (final_h1, _) = rnn1(packed)
        padded_h1, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_h1)
        normed_h1 = ln(padded_h1)
        packed_normed_h1 = torch.nn.utils.rnn.pack_padded_sequence(normed_h1, lengths, enforce_sorted=False)
        _, (final_h2, _) = rnn2(packed_normed_h1)
        utt = torch.cat((final_h1, final_h2), dim=2).permute(1, 0, 2).contiguous().view(B, -1)
    grads = misa_encoder_gradients(x, lengths, rnn1, rnn2, ln, B)
    enc = {"batch": B, "steps": T, "dim": d, "lengths": lengths.tolist(), "gradients": grads,
           "x": flat(x.permute(1, 0, 2)),  # stored (B, T, d)
           "rnn1_fwd": lstm_params(rnn1, ""), "rnn1_bwd": lstm_params(rnn1, "_reverse"),
           "rnn2_fwd": lstm_params(rnn2, ""), "rnn2_bwd": lstm_params(rnn2, "_reverse"),
           "ln_w": flat(ln.weight), "ln_b": flat(ln.bias), "utterance": flat(utt)}

    H, S, ff = 6, 6, 10
    layer = torch.nn.TransformerEncoderLayer(d_model=H, nhead=2, dim_feedforward=ff).double().eval()
    with torch.no_grad():
        for prm in (layer.self_attn.in_proj_bias, layer.self_attn.out_proj.bias, layer.norm1.weight,
                    layer.norm1.bias, layer.norm2.weight, layer.norm2.bias):
            prm.add_(0.1 * torch.randn(prm.shape, dtype=D))
        h = torch.randn(S, B, H, dtype=D)  # MISA stacks the six vectors as (6, B, H)
        out = layer(h)
    w_in, b_in = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias
    tr = {"width": H, "tokens": S, "ff": ff, "x": flat(h.permute(1, 0, 2)), "out": flat(out.permute(1, 0, 2)),
          "q_w": flat(w_in[:H]), "q_b": flat(b_in[:H]), "k_w": flat(w_in[H:2 * H]), "k_b": flat(b_in[H:2 * H]),
          "v_w": flat(w_in[2 * H:]), "v_b": flat(b_in[2 * H:]),
          "out_w": flat(layer.self_attn.out_proj.weight), "out_b": flat(layer.self_attn.out_proj.bias),
          "ff1_w": flat(layer.linear1.weight), "ff1_b": flat(layer.linear1.bias),
          "ff2_w": flat(layer.linear2.weight), "ff2_b": flat(layer.linear2.bias),
          "norm1_w": flat(layer.norm1.weight), "norm1_b": flat(layer.norm1.bias),
          "norm2_w": flat(layer.norm2.weight), "norm2_b": flat(layer.norm2.bias)}
    return {"encoder": enc, "transformer": tr}


def main():
    out = {"torch_version": torch.__version__, "mag": mag(), "misa": misa(), "mmim": mmim(),
           "misa_modules": misa_encoders()}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bert_models_fixture.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
