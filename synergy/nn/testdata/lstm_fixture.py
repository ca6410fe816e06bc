#!/usr/bin/python3
"""Reference outputs of PyTorch's nn.LSTM for synergy/nn's LSTM tests.

Run with Debian's python3-torch:  /usr/bin/python3 lstm_fixture.py
Writes lstm_fixture.json next to this script (float64 throughout).

Weights are stored in synergo's layout: wx (in, 4H) = weight_ih^T,
wh (H, 4H) = weight_hh^T, b (4H) = bias_ih + bias_hh, gate order i, f, g, o.
"full" runs every sequence over all T steps; "padded" uses
pack_padded_sequence with the given lengths (outputs after a sequence's end
are zero in PyTorch; h_n, c_n are the states at the last valid step).
"full.cells" holds c_t at every step, obtained by stepping nn.LSTM one step
at a time from the carried (h, c).
"""
import json
import os

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(20261127)
IN, H, B, T = 3, 4, 3, 5
LENGTHS = [5, 3, 1]

lstm = torch.nn.LSTM(IN, H, batch_first=True).double()
with torch.no_grad():
    # Larger-than-default weights so the gates leave their linear regime.
    for p in lstm.parameters():
        p.uniform_(-0.9, 0.9)
x = torch.randn(B, T, IN, dtype=torch.float64) * 1.5

with torch.no_grad():
    out_full, (hn_full, cn_full) = lstm(x)
    h = torch.zeros(1, B, H, dtype=torch.float64)
    c = torch.zeros(1, B, H, dtype=torch.float64)
    cells = []
    for t in range(T):
        _, (h, c) = lstm(x[:, t:t + 1, :], (h, c))
        cells.append(c[0])
    cells = torch.stack(cells, dim=1)  # (B, T, H)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out_p, (hn_p, cn_p) = lstm(packed)
    out_p, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


fixture = {
    "torch_version": torch.__version__,
    "in": IN, "hidden": H, "batch": B, "steps": T, "lengths": LENGTHS,
    "wx": flat(lstm.weight_ih_l0.t()),
    "wh": flat(lstm.weight_hh_l0.t()),
    "b": flat(lstm.bias_ih_l0 + lstm.bias_hh_l0),
    "x": flat(x),
    "full": {"hidden": flat(out_full), "cells": flat(cells),
             "h_n": flat(hn_full[0]), "c_n": flat(cn_full[0])},
    "padded": {"hidden": flat(out_p), "h_n": flat(hn_p[0]), "c_n": flat(cn_p[0])},
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lstm_fixture.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=1)
print("wrote", path)
