"""PyTorch ports of synergo's seven fusion models (synergy/models: EF-LSTM,
TFN, LMF, MFN, MAG-BERT, MISA, MMIM, each in its default form, which is the
original architecture) and of the synergy regularizer (synergy.DefaultConfig),
for timing side by side with the Go implementation (bench/compare.py).

Shapes, hyper-parameters (MMSA's defaults per data set, the originals'
for the BERT-based models), batch sizes, float32, dropout, AdamW and the
elementwise gradient clip (5) follow the Go code; the task loss is least
squares, the trainer's default. Where the Go code and the original
PyTorch code differ only in how the same function is computed, the port
takes the original's way, which is what a PyTorch user runs:

- LSTMs: nn.LSTM over all T steps, then the state at the last valid step
  (EF-LSTM, TFN, LMF; Go holds the state after the end: the same h), or
  packed sequences (MISA, MMIM, as their originals). MFN steps nn.LSTMCell
  over all T steps, with the state held after a sequence ends (the mask
  blend), as the Go op computes; the Go op leaves the masked steps out.
- EF-LSTM's, TFN's and LMF's batch normalization runs inside the model (Go
  normalizes in Feed and keeps the affine part in the graph).
- The BERT encoder is Hugging Face's BertModel written out (post-LN layers,
  exact GELU, additive −10000 mask), the "tiny" configuration trained from
  scratch (2 layers × 128, 2 heads, feed-forward 512, vocabulary 30522) as
  synergo's default.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# Defaults of synergy/models (MMSA config_regression.json; the BERT-based
# models' originals). batch/lr/wd are the optimizer defaults.
CFG = {
    "eflstm": {
        "mosi": dict(hidden=128, layers=4, dropout=0.5, batch=32, lr=1e-3, wd=5e-3),
        "mosei": dict(hidden=256, layers=2, dropout=0.4, batch=128, lr=5e-3, wd=1e-4),
    },
    "tfn": {
        "mosi": dict(text_hidden=128, audio_hidden=32, vision_hidden=128, text_out=32, post=64,
                     pa=0.3, pv=0.3, pt=0.0, pf=0.5, batch=32, lr=1e-3, wd=0.0),
        "mosei": dict(text_hidden=128, audio_hidden=16, vision_hidden=128, text_out=128, post=16,
                      pa=0.4, pv=0.4, pt=0.0, pf=0.4, batch=128, lr=5e-3, wd=0.0),
    },
    "lmf": {
        "mosi": dict(text_hidden=128, audio_hidden=16, vision_hidden=128, text_out=64, rank=3,
                     pa=0.3, pv=0.3, pt=0.3, batch=64, lr=1e-3, wd=5e-3),
        "mosei": dict(text_hidden=128, audio_hidden=16, vision_hidden=128, text_out=64, rank=4,
                      pa=0.2, pv=0.2, pt=0.2, batch=32, lr=1e-3, wd=1e-3),
    },
    "mfn": {
        "mosi": dict(hidden=(256, 32, 256), mem=400, nn1=(32, .2), nn2=(64, 0), gamma1=(256, .7),
                     gamma2=(32, .5), out=(128, 0), batch=128, lr=2e-3, wd=0.0),
        "mosei": dict(hidden=(128, 32, 128), mem=128, nn1=(128, .2), nn2=(128, .5), gamma1=(256, .7),
                      gamma2=(256, 0), out=(128, .5), batch=64, lr=5e-4, wd=1e-4),
    },
    "magbert": {
        "mosi": dict(beta_shift=1.0, dropout=0.5, batch=48, lr=1e-5, wd=0.01),
        "mosei": dict(beta_shift=1.0, dropout=0.5, batch=48, lr=1e-5, wd=0.01),
    },
    "misa": {
        "mosi": dict(hidden=128, dropout=0.5, diff=0.3, sim=1.0, recon=1.0, heads=2, ff=2048, tdrop=0.1,
                     freeze_layers=0, batch=64, lr=1e-4, wd=0.0),
        "mosei": dict(hidden=128, dropout=0.5, diff=0.3, sim=1.0, recon=1.0, heads=2, ff=2048, tdrop=0.1,
                      freeze_layers=9, batch=16, lr=1e-4, wd=0.0),
    },
    "mmim": {
        "mosi": dict(d_ah=16, d_vh=16, d_aout=16, d_vout=16, d_prjh=128, dropout_prj=0.1, alpha=0.1, beta=0.1,
                     batch=32, lr=1e-3, wd=1e-4),
        "mosei": dict(d_ah=16, d_vh=16, d_aout=16, d_vout=16, d_prjh=128, dropout_prj=0.1, alpha=0.1, beta=0.1,
                      batch=32, lr=1e-3, wd=1e-4),
    },
}
MODELS = list(CFG)
# datasets.Synthetic presets: (train size, T, (D_text, D_audio, D_vision),
# median and log-normal σ of the word count).
PRESETS = {
    "mosi": (1284, 50, (300, 5, 20), 10, math.log(27.0 / 10) / 1.645),
    "mosei": (16326, 50, (300, 74, 35), 20, math.log(51.0 / 20) / 1.645),
}
TOKEN_LEN = 50  # width of the synthetic token-id rows: [CLS] words [SEP] padding
BERT_TINY = dict(vocab=30522, hidden=128, layers=2, heads=2, ff=512, positions=512, types=2, dropout=0.1, eps=1e-12)


def last_valid(h, lengths):
    """h (B, T, H), lengths (B) → h[b, lengths[b]−1] (B, H)."""
    idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, h.shape[2])
    return h.gather(1, idx).squeeze(1)


def masked_mean(x, weights):
    """Σ_t w[b, t] x[b, t, :] (B, d) for weights w (B, T) = mask/length."""
    return torch.bmm(weights.unsqueeze(1), x).squeeze(1)


class Batch:
    """One batch: sequences xs = (text, audio, vision) (B, T, D_m), lengths
    (B), masked-mean weights (B, T), token ids (B, L) and their mask, the
    audio and vision frames at the token positions (B, L, D) (token p
    carries step p−1; [CLS], [SEP] and padding a zero row), labels (B)."""

    def __init__(self, data, idx):
        self.xs = [x[idx] for x in data["xs"]]
        self.lengths = data["lengths"][idx]
        self.weights = data["weights"][idx]
        self.tokens = data["tokens"][idx]
        self.token_mask = data["token_mask"][idx]
        self.token_weights = data["token_weights"][idx]
        self.audio_tok = data["audio_tok"][idx]
        self.vision_tok = data["vision_tok"][idx]
        self.labels = data["labels"][idx]


# ---------------------------------------------------------------- EF-LSTM, TFN, LMF

class EFLSTM(nn.Module):
    """Early-fusion LSTM (MMSA EF_LSTM): BatchNorm1d(T) over the concatenated
    word-aligned features, a stack of LSTMs (dropout between layers),
    Dropout → Linear+ReLU (= Z) → Dropout → Linear. Z_m: the masked time mean
    of modality m's part of the normalized input."""

    def __init__(self, dims, T, c):
        super().__init__()
        self.dims = list(dims)
        self.bn = nn.BatchNorm1d(T)
        self.lstm = nn.LSTM(sum(dims), c["hidden"], num_layers=c["layers"], dropout=c["dropout"], batch_first=True)
        self.p = c["dropout"]
        self.hidden = nn.Linear(c["hidden"], c["hidden"])
        self.out = nn.Linear(c["hidden"], 1)

    def forward(self, b):
        cat = self.bn(torch.cat(b.xs, 2))
        unimodal = [masked_mean(p, b.weights) for p in torch.split(cat, self.dims, 2)]
        h, _ = self.lstm(cat)
        last = F.dropout(last_valid(h, b.lengths), self.p, self.training)
        fused = F.relu(self.hidden(last))
        pred = self.out(F.dropout(fused, self.p, self.training)).squeeze(1)
        return unimodal, fused, pred, None


class SubNet(nn.Module):
    """TFN's and LMF's audio/vision sub-network on the time mean:
    BatchNorm, dropout, 3 ReLU layers."""

    def __init__(self, d, hidden, p):
        super().__init__()
        self.bn = nn.BatchNorm1d(d)
        self.p = p
        self.l1, self.l2, self.l3 = nn.Linear(d, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)

    def forward(self, x):
        x = F.dropout(self.bn(x), self.p, self.training)
        return F.relu(self.l3(F.relu(self.l2(F.relu(self.l1(x))))))


class TextSubNet(nn.Module):
    """One-layer LSTM, state at the last valid word, dropout p, linear."""

    def __init__(self, d, hidden, out, p):
        super().__init__()
        self.lstm = nn.LSTM(d, hidden, batch_first=True)
        self.p = p
        self.out = nn.Linear(hidden, out)

    def forward(self, x, lengths):
        h, _ = self.lstm(x)
        return self.out(F.dropout(last_valid(h, lengths), self.p, self.training))


class TFN(nn.Module):
    """Tensor Fusion Network (MMSA TFN): F = [1;Z_a]⊗[1;Z_v]⊗[1;Z_t]
    flattened, dropout, Linear-ReLU, Linear-ReLU (= Z), Linear, 6σ(y)−3.
    Audio and vision are averaged over the padded time axis; the text
    sub-network has no dropout (MMSA zeroes it for one LSTM layer)."""

    def __init__(self, dims, c):
        super().__init__()
        self.audio = SubNet(dims[1], c["audio_hidden"], c["pa"])
        self.vision = SubNet(dims[2], c["vision_hidden"], c["pv"])
        self.text = TextSubNet(dims[0], c["text_hidden"], c["text_out"], c["pt"])
        self.pf = c["pf"]
        fused_in = (c["audio_hidden"] + 1) * (c["vision_hidden"] + 1) * (c["text_out"] + 1)
        self.post1 = nn.Linear(fused_in, c["post"])
        self.post2 = nn.Linear(c["post"], c["post"])
        self.post3 = nn.Linear(c["post"], 1)

    def forward(self, b):
        text, audio, vision = b.xs
        zt = self.text(text, b.lengths)
        za = self.audio(audio.mean(1))
        zv = self.vision(vision.mean(1))
        B = zt.shape[0]
        one = torch.ones(B, 1)
        a, v, t = torch.cat([one, za], 1), torch.cat([one, zv], 1), torch.cat([one, zt], 1)
        f = torch.bmm(torch.bmm(a.unsqueeze(2), v.unsqueeze(1)).view(B, -1, 1), t.unsqueeze(1)).view(B, -1)
        f = F.dropout(f, self.pf, self.training)
        y1 = F.relu(self.post1(f))
        fused = F.relu(self.post2(y1))
        pred = 6 * torch.sigmoid(self.post3(fused)).squeeze(1) - 3
        return [zt, za, zv], fused, pred, None


class LMF(nn.Module):
    """Low-rank Multimodal Fusion (Justin1904 model.py, output_dim 1): TFN's
    sub-networks (the text one with its dropout), modality factors
    W_m ((d_m+1) × r), Z = f_a ⊙ f_v ⊙ f_t (B, r) the rank-wise products,
    Pred = Z w + b with trained fusion weights and bias."""

    def __init__(self, dims, c):
        super().__init__()
        r = c["rank"]
        self.audio = SubNet(dims[1], c["audio_hidden"], c["pa"])
        self.vision = SubNet(dims[2], c["vision_hidden"], c["pv"])
        self.text = TextSubNet(dims[0], c["text_hidden"], c["text_out"], c["pt"])
        self.factors = nn.ParameterList()
        for d in (c["audio_hidden"], c["vision_hidden"], c["text_out"]):
            w = torch.empty(r, d + 1, 1)
            nn.init.xavier_normal_(w)
            self.factors.append(nn.Parameter(w.squeeze(2).t().contiguous()))  # (d+1, r)
        self.weights = nn.Parameter(nn.init.xavier_normal_(torch.empty(1, r)).view(r))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, b):
        text, audio, vision = b.xs
        zt = self.text(text, b.lengths)
        za = self.audio(audio.mean(1))
        zv = self.vision(vision.mean(1))
        B = zt.shape[0]
        one = torch.ones(B, 1)
        prod = None
        for z, w in zip((za, zv, zt), self.factors):
            f = torch.cat([one, z], 1) @ w
            prod = f if prod is None else prod * f
        pred = prod @ self.weights + self.bias
        return [zt, za, zv], prod, pred, None


# ---------------------------------------------------------------- MFN

class MFNNet(nn.Module):
    """NN(x) = W₂ Dropout(ReLU(W₁x + b₁)) + b₂."""

    def __init__(self, i, hidden, o, p):
        super().__init__()
        self.l1, self.l2, self.p = nn.Linear(i, hidden), nn.Linear(hidden, o), p

    def forward(self, x):
        return self.l2(F.dropout(F.relu(self.l1(x)), self.p, self.training))


class MFN(nn.Module):
    """Memory Fusion Network (pliang279/MFN, MMSA MFN): three LSTMCells,
    the Delta-memory Attention Network on [c_{t−1}; c_t] and the Multi-view
    Gated Memory, stepped over all T words; each modality's state holds after
    its sequence ends and the memory once all have ended (the Go op's
    semantics). Z = ReLU(W₁[h_l; h_a; h_v; u_T] + b₁)."""

    def __init__(self, dims, c):
        super().__init__()
        self.hidden = c["hidden"]
        total = sum(self.hidden)
        self.cells = nn.ModuleList(nn.LSTMCell(d, h) for d, h in zip(dims, self.hidden))
        att, mem = 2 * total, c["mem"]
        self.mem = mem
        self.nn1 = MFNNet(att, c["nn1"][0], att, c["nn1"][1])
        self.nn2 = MFNNet(att, c["nn2"][0], mem, c["nn2"][1])
        self.gamma1 = MFNNet(att + mem, c["gamma1"][0], mem, c["gamma1"][1])
        self.gamma2 = MFNNet(att + mem, c["gamma2"][0], mem, c["gamma2"][1])
        self.out1 = nn.Linear(total + mem, c["out"][0])
        self.out2 = nn.Linear(c["out"][0], 1)
        self.pout = c["out"][1]

    def forward(self, b):
        B, T = b.xs[0].shape[0], b.xs[0].shape[1]
        hs = [torch.zeros(B, h) for h in self.hidden]
        cs = [torch.zeros(B, h) for h in self.hidden]
        u = torch.zeros(B, self.mem)
        steps = torch.arange(T).view(1, T) < b.lengths.view(B, 1)
        mask = steps.float()
        for t in range(T):
            m = mask[:, t:t + 1]
            new_h, new_c = [], []
            for cell, x, h, c in zip(self.cells, b.xs, hs, cs):
                h2, c2 = cell(x[:, t], (h, c))
                new_h.append(m * h2 + (1 - m) * h)
                new_c.append(m * c2 + (1 - m) * c)
            cstar = torch.cat(cs + new_c, 1)
            a = torch.softmax(self.nn1(cstar), 1)
            chat = a * cstar
            uhat = torch.tanh(self.nn2(chat))
            both = torch.cat([chat, u], 1)
            g1 = torch.sigmoid(self.gamma1(both))
            g2 = torch.sigmoid(self.gamma2(both))
            u = u + m * (g1 * u + g2 * uhat - u)
            hs, cs = new_h, new_c
        fused = F.relu(self.out1(torch.cat(hs + [u], 1)))
        pred = self.out2(F.dropout(fused, self.pout, self.training)).squeeze(1)
        return hs, fused, pred, None


# ---------------------------------------------------------------- BERT

class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word = nn.Embedding(c["vocab"], c["hidden"])
        self.position = nn.Embedding(c["positions"], c["hidden"])
        self.token_type = nn.Embedding(c["types"], c["hidden"])
        self.norm = nn.LayerNorm(c["hidden"], eps=c["eps"])
        self.p = c["dropout"]

    def forward(self, ids):
        L = ids.shape[1]
        pos = torch.arange(L).view(1, L)
        e = self.word(ids) + self.position(pos) + self.token_type(torch.zeros_like(ids))
        return F.dropout(self.norm(e), self.p, self.training)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden"]
        self.heads, self.p = c["heads"], c["dropout"]
        self.q, self.k, self.v, self.o = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.norm1 = nn.LayerNorm(H, eps=c["eps"])
        self.ff1, self.ff2 = nn.Linear(H, c["ff"]), nn.Linear(c["ff"], H)
        self.norm2 = nn.LayerNorm(H, eps=c["eps"])

    def forward(self, x, add_mask):
        B, L, H = x.shape
        d = H // self.heads

        def split(y):
            return y.view(B, L, self.heads, d).transpose(1, 2)  # (B, heads, L, d)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + add_mask
        probs = F.dropout(torch.softmax(scores, -1), self.p, self.training)
        ctx = (probs @ v).transpose(1, 2).reshape(B, L, H)
        a = self.norm1(x + F.dropout(self.o(ctx), self.p, self.training))
        f = self.ff2(F.gelu(self.ff1(a)))
        return self.norm2(a + F.dropout(f, self.p, self.training))


class Bert(nn.Module):
    """Hugging Face's BertModel written out: embeddings, post-LN layers,
    optional pooler tanh(W h_[CLS] + b)."""

    def __init__(self, c, pooler):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.layers = nn.ModuleList(BertLayer(c) for _ in range(c["layers"]))
        self.pooler = nn.Linear(c["hidden"], c["hidden"]) if pooler else None

    def encode(self, e, mask):
        add_mask = ((mask - 1.0) * 10000.0).view(mask.shape[0], 1, 1, mask.shape[1])
        for layer in self.layers:
            e = layer(e, add_mask)
        pooled = torch.tanh(self.pooler(e[:, 0])) if self.pooler is not None else None
        return e, pooled

    def forward(self, ids, mask):
        return self.encode(self.embeddings(ids), mask)


class MAGBERT(nn.Module):
    """MAG-BERT (WasifurRahman/BERT_multimodal_transformer): the Multimodal
    Adaptation Gate after the embedding layer, h_m = ReLU(W_hv[v; t])⊙W_v v +
    ReLU(W_ha[a; t])⊙W_a a, α = min(‖t‖/(‖h_m‖+ε)·β, 1), e = Dropout(LN(t +
    α h_m)), then the encoder; Z = the pooled output; Z_t, Z_a, Z_v the token
    means of t and of the two shifts."""

    def __init__(self, dims, c):
        super().__init__()
        H = BERT_TINY["hidden"]
        self.bert = Bert(BERT_TINY, pooler=True)
        da, dv = dims[1], dims[2]
        self.W_hv, self.W_ha = nn.Linear(dv + H, H), nn.Linear(da + H, H)
        self.W_v, self.W_a = nn.Linear(dv, H), nn.Linear(da, H)
        self.norm = nn.LayerNorm(H)
        self.beta, self.p = c["beta_shift"], c["dropout"]
        self.head = nn.Linear(H, 1)
        for l in (self.W_hv, self.W_ha, self.W_v, self.W_a, self.head):
            nn.init.normal_(l.weight, std=0.02)
            nn.init.zeros_(l.bias)

    def forward(self, b):
        t = self.bert.embeddings(b.tokens)
        sv = F.relu(self.W_hv(torch.cat([b.vision_tok, t], -1))) * self.W_v(b.vision_tok)
        sa = F.relu(self.W_ha(torch.cat([b.audio_tok, t], -1))) * self.W_a(b.audio_tok)
        hm = sv + sa
        hn = hm.norm(2, dim=-1)
        hn = torch.where(hn == 0, torch.ones_like(hn), hn)
        alpha = torch.clamp(t.norm(2, dim=-1) / (hn + 1e-6) * self.beta, max=1.0).unsqueeze(-1)
        e = F.dropout(self.norm(t + alpha * hm), self.p, self.training)
        _, pooled = self.bert.encode(e, b.token_mask)
        pred = self.head(F.dropout(pooled, BERT_TINY["dropout"], self.training)).squeeze(1)
        z = [masked_mean(x, b.token_weights) for x in (t, sa, sv)]
        return z, pooled, pred, None


# ---------------------------------------------------------------- MISA

def cmd(x, y, moments=5):
    """Central moment discrepancy (MISA's CMD)."""
    mx, my = x.mean(0), y.mean(0)
    sx, sy = x - mx, y - my
    total = (mx - my).pow(2).sum().sqrt()
    for k in range(2, moments + 1):
        total = total + (sx.pow(k).mean(0) - sy.pow(k).mean(0)).pow(2).sum().sqrt()
    return total


def diff_loss(x, y):
    """MISA's DiffLoss (soft orthogonality of centred unit rows)."""
    x = x - x.mean(0, keepdim=True)
    y = y - y.mean(0, keepdim=True)
    x = x / (x.norm(p=2, dim=1, keepdim=True).detach() + 1e-6)
    y = y / (y.norm(p=2, dim=1, keepdim=True).detach() + 1e-6)
    return (x.t() @ y).pow(2).mean()


class MISA(nn.Module):
    """MISA (declare-lab/MISA): BERT token mean for text, two packed
    bidirectional LSTMs with a LayerNorm for audio and vision, projections
    (Linear, ReLU, LayerNorm), private and shared encoders (Sigmoid),
    reconstruction, a TransformerEncoderLayer over the six vectors, the fusion
    head; L_aux = 0.3·L_diff + L_sim/3 + L_recon/3. Z_m = the projections,
    Z = the fusion head's hidden layer."""

    def __init__(self, dims, c):
        super().__init__()
        H = c["hidden"]
        self.c = c
        self.bert = Bert(BERT_TINY, pooler=False)
        for layer in self.bert.layers[:c["freeze_layers"]]:
            for p in layer.parameters():
                p.requires_grad_(False)
        da, dv = dims[1], dims[2]
        self.arnn1, self.arnn2 = nn.LSTM(da, da, bidirectional=True), nn.LSTM(2 * da, da, bidirectional=True)
        self.vrnn1, self.vrnn2 = nn.LSTM(dv, dv, bidirectional=True), nn.LSTM(2 * dv, dv, bidirectional=True)
        self.anorm, self.vnorm = nn.LayerNorm(2 * da), nn.LayerNorm(2 * dv)
        for rnn in (self.arnn1, self.arnn2, self.vrnn1, self.vrnn2):
            for name, p in rnn.named_parameters():
                if "weight_hh" in name:
                    nn.init.orthogonal_(p)
        ins = (BERT_TINY["hidden"], 4 * da, 4 * dv)
        self.project = nn.ModuleList(nn.Linear(i, H) for i in ins)
        self.project_norm = nn.ModuleList(nn.LayerNorm(H) for _ in ins)
        self.private = nn.ModuleList(nn.Linear(H, H) for _ in ins)
        self.recon = nn.ModuleList(nn.Linear(H, H) for _ in ins)
        self.shared = nn.Linear(H, H)
        self.transformer = nn.TransformerEncoderLayer(d_model=H, nhead=c["heads"], dim_feedforward=c["ff"],
                                                      dropout=c["tdrop"])
        self.fusion1 = nn.Linear(6 * H, 3 * H)
        self.fusion3 = nn.Linear(3 * H, 1)

    @staticmethod
    def encode(x, lengths, rnn1, norm, rnn2):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h1, (final1, _) = rnn1(packed)
        padded, _ = pad_packed_sequence(h1, batch_first=True, total_length=x.shape[1])
        normed = pack_padded_sequence(norm(padded), lengths, batch_first=True, enforce_sorted=False)
        _, (final2, _) = rnn2(normed)
        return torch.cat((final1, final2), dim=2).permute(1, 0, 2).reshape(x.shape[0], -1)

    def forward(self, b):
        c = self.c
        seq, _ = self.bert(b.tokens, b.token_mask)
        utt = [masked_mean(seq, b.token_weights),
               self.encode(b.xs[1], b.lengths, self.arnn1, self.anorm, self.arnn2),
               self.encode(b.xs[2], b.lengths, self.vrnn1, self.vnorm, self.vrnn2)]
        proj = [n(F.relu(p(u))) for p, n, u in zip(self.project, self.project_norm, utt)]
        private = [torch.sigmoid(p(x)) for p, x in zip(self.private, proj)]
        shared = [torch.sigmoid(self.shared(x)) for x in proj]
        (pt, pa, pv), (st, sa, sv) = private, shared
        diff = sum(diff_loss(x, y) for x, y in ((pt, st), (pv, sv), (pa, sa), (pa, pt), (pa, pv), (pt, pv)))
        sim = cmd(st, sv) + cmd(st, sa) + cmd(sa, sv)
        recon = sum(F.mse_loss(r(p + s), x) for r, p, s, x in zip(self.recon, private, shared, proj))
        aux = c["diff"] * diff + c["sim"] * sim / 3 + c["recon"] * recon / 3
        h = self.transformer(torch.stack((pt, pv, pa, st, sv, sa), dim=0))
        fused = F.relu(self.fusion1(torch.cat(tuple(h), dim=1)))
        pred = self.fusion3(F.dropout(fused, c["dropout"], self.training)).squeeze(1)
        return proj, fused, pred, aux


# ---------------------------------------------------------------- MMIM

class MMILB(nn.Module):
    """MMIM's lower bound network x → y and the entropy projection."""

    def __init__(self, x_size, y_size):
        super().__init__()
        self.mu = nn.Sequential(nn.Linear(x_size, y_size), nn.ReLU(), nn.Linear(y_size, y_size))
        self.logvar = nn.Sequential(nn.Linear(x_size, y_size), nn.ReLU(), nn.Linear(y_size, y_size))
        self.entropy_prj = nn.Sequential(nn.Linear(y_size, y_size // 4), nn.Tanh())

    def forward(self, x, y, labels, mem):
        mu, logvar = self.mu(x), self.logvar(x)
        lld = torch.mean(torch.sum(-(mu - y) ** 2 / 2. / torch.exp(logvar), -1))
        p = self.entropy_prj(y)
        k = p.shape[1]
        H = 0.0
        if mem is not None:
            pos_all = torch.cat([mem[0], p[labels > 0]], 0)
            neg_all = torch.cat([mem[1], p[labels < 0]], 0)
            if pos_all.shape[0] > k and neg_all.shape[0] > k:
                def logdet(z):
                    d = z - z.mean(0)
                    return torch.logdet(torch.mean(torch.bmm(d.unsqueeze(-1), d.unsqueeze(1)), dim=0))
                H = 0.25 * (logdet(pos_all) + logdet(neg_all))
        return lld, (p[labels > 0].detach(), p[labels < 0].detach()), H


class CPC(nn.Module):
    def __init__(self, x_size, y_size):
        super().__init__()
        self.net = nn.Linear(y_size, x_size)

    def forward(self, x, y):
        x_pred = self.net(y)
        x_pred = x_pred / x_pred.norm(dim=1, keepdim=True)
        x = x / x.norm(dim=1, keepdim=True)
        pos = torch.sum(x * x_pred, dim=-1)
        neg = torch.logsumexp(x @ x_pred.t(), dim=-1)
        return -(pos - neg).mean()


class MMIM(nn.Module):
    """MMIM (declare-lab/Multimodal-Infomax): BERT [CLS], packed LSTM
    encoders for audio and vision, the fusion SubNet (Tanh), CPC bounds and
    the MMILB bounds with the entropy of the previous batch's memory;
    L_aux = α·NCE − β·lld − β·H. The main stage only (the bench times one
    task-loss step per batch on both sides). Z = the SubNet's y₂."""

    def __init__(self, dims, c):
        super().__init__()
        H = BERT_TINY["hidden"]
        self.c = c
        self.bert = Bert(BERT_TINY, pooler=False)
        self.arnn, self.vrnn = nn.LSTM(dims[1], c["d_ah"]), nn.LSTM(dims[2], c["d_vh"])
        self.aout, self.vout = nn.Linear(c["d_ah"], c["d_aout"]), nn.Linear(c["d_vh"], c["d_vout"])
        self.mi_tv, self.mi_ta = MMILB(H, c["d_vout"]), MMILB(H, c["d_aout"])
        self.cpc_zt, self.cpc_zv, self.cpc_za = CPC(H, c["d_prjh"]), CPC(c["d_vout"], c["d_prjh"]), CPC(c["d_aout"], c["d_prjh"])
        dim = H + c["d_aout"] + c["d_vout"]
        self.f1, self.f2, self.f3 = nn.Linear(dim, c["d_prjh"]), nn.Linear(c["d_prjh"], c["d_prjh"]), nn.Linear(c["d_prjh"], 1)
        for name, p in self.named_parameters():
            if not name.startswith("bert.") and p.dim() > 1:
                nn.init.xavier_normal_(p)
        self.memory = None  # the previous training batch's entropy projections per class

    @staticmethod
    def encode(x, lengths, rnn, out):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = rnn(packed)
        return out(h.squeeze(0))

    def forward(self, b):
        c = self.c
        seq, _ = self.bert(b.tokens, b.token_mask)
        text = seq[:, 0]
        audio = self.encode(b.xs[1], b.lengths, self.arnn, self.aout)
        vision = self.encode(b.xs[2], b.lengths, self.vrnn, self.vout)
        labels = b.labels if self.training else torch.zeros_like(b.labels)
        mem = self.memory if self.training else None
        lld_tv, samples_tv, h_tv = self.mi_tv(text, vision, labels, mem[0] if mem else None)
        lld_ta, samples_ta, h_ta = self.mi_ta(text, audio, labels, mem[1] if mem else None)
        if self.training:
            self.memory = (samples_tv, samples_ta)
        y1 = torch.tanh(self.f1(F.dropout(torch.cat([text, audio, vision], 1), c["dropout_prj"], self.training)))
        fused = torch.tanh(self.f2(y1))
        pred = self.f3(fused).squeeze(1)
        nce = self.cpc_zt(text, fused) + self.cpc_zv(vision, fused) + self.cpc_za(audio, fused)
        aux = c["alpha"] * nce - c["beta"] * (lld_tv + lld_ta) - c["beta"] * (h_tv + h_ta)
        return [text, audio, vision], fused, pred, aux


def build(model, preset):
    """The model of a preset with its configuration."""
    _, T, dims, _, _ = PRESETS[preset]
    c = CFG[model][preset]
    cls = {"eflstm": lambda: EFLSTM(dims, T, c), "tfn": lambda: TFN(dims, c), "lmf": lambda: LMF(dims, c),
           "mfn": lambda: MFN(dims, c), "magbert": lambda: MAGBERT(dims, c), "misa": lambda: MISA(dims, c),
           "mmim": lambda: MMIM(dims, c)}[model]
    return cls(), c


# ---------------------------------------------------------------- the regularizer

def mlp(sizes):
    """4-layer LeakyReLU MLP (nn.MLP with LeakyReLU, slope 0.01)."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.01))
    return nn.Sequential(*layers)


class Coupling(nn.Module):
    """One affine coupling block (nn.CouplingBlock)."""

    def __init__(self, dim, hidden, transform_first):
        super().__init__()
        self.first = dim // 2
        self.tf = transform_first
        cond, trans = (dim - self.first, self.first) if transform_first else (self.first, dim - self.first)
        self.s = mlp([cond, hidden, hidden, hidden, trans])
        self.t = mlp([cond, hidden, hidden, hidden, trans])

    def forward(self, x):
        lo, hi = x[:, :self.first], x[:, self.first:]
        cond, trans = (hi, lo) if self.tf else (lo, hi)
        y = trans * torch.exp(torch.tanh(self.s(cond))) + self.t(cond)
        return torch.cat([y, cond], 1) if self.tf else torch.cat([cond, y], 1)


class Synergy(nn.Module):
    """The C-network with synergy.DefaultConfig (the stable variant): the
    representations batch-standardized, L2 (Q_i on the others, the target
    Z_i detached), L_d (fixed projections, invertible g_i, MMD² with 3
    median-heuristic bandwidths or Donsker–Varadhan KL with critics, the
    fused side detached), L_κ (Mardia kurtosis of Z and every Z_i with the
    in-graph EMA covariance, clipping, loading and inverse, normalized by
    p(p+2)); L_reg = L2 + L_d + 1e-3·L_κ, batch means throughout."""

    def __init__(self, dims, fused, divergence, k=16, q_hidden=64, blocks=2, flow_hidden=32, critic_hidden=64):
        super().__init__()
        self.dims, self.k, self.divergence = dims, k, divergence
        self.q = nn.ModuleList(mlp([sum(dims) - d, q_hidden, q_hidden, q_hidden, d]) for d in dims)
        for i, d in enumerate(dims):
            self.register_buffer(f"R{i}", torch.randn(d, k) / math.sqrt(k))
            self.register_buffer(f"Rf{i}", torch.randn(fused, k) / math.sqrt(k))
        self.flows = nn.ModuleList(
            nn.Sequential(*[Coupling(k, flow_hidden, b % 2 == 1) for b in range(blocks)]) for _ in dims)
        self.critics = nn.ModuleList(mlp([k, critic_hidden, critic_hidden, critic_hidden, 1]) for _ in dims) \
            if divergence == "kl" else None
        self.targets = [fused] + list(dims)
        self.cov = [torch.zeros(p, p) for p in self.targets]
        self.cov_updates = [0] * len(self.targets)
        self.bandwidth = [0.0] * len(dims)
        self.mult = [0.5, 1.0, 2.0]
        self.flow_out = []

    def mmd2(self, x, y, i):
        B = x.shape[0]
        w = torch.cat([x, y], 0)
        sq = (w * w).sum(1)
        dist = sq.view(-1, 1) + sq.view(1, -1) - 2 * (w @ w.t())
        scale = self.bandwidth[i] or math.sqrt(2 * self.k)
        kern = sum(torch.exp(-dist / (2 * (m * scale) ** 2)) for m in self.mult)
        weights = torch.full((2 * B, 2 * B), 1.0 / (B * B))
        weights[:B, B:] = weights[B:, :B] = -1.0 / (B * B)
        return (kern * weights).sum()

    def dv(self, critic, x, y):
        ty = critic(y).view(-1)
        m = ty.max()
        return critic(x).mean() - (m + torch.log(torch.exp(ty - m).mean()))

    def kurtosis(self, z, ti, clip=3.0, load=0.1, decay=0.9):
        B, p = z.shape
        d = z - z.mean(0, keepdim=True)
        sq = (d * d).sum(1)
        norms = torch.sqrt(sq + 1e-12)
        thr = torch.sqrt(sq.mean() + 1e-12) * clip
        r = norms / thr
        dc = d * (2 / (1 + r + (1 - r).abs())).view(B, 1)
        alpha = decay if self.cov_updates[ti] > 0 else 0.0
        cov = self.cov[ti] * alpha + (dc.t() @ dc) / B * (1 - alpha)
        eye = torch.eye(p)
        loaded = cov + eye * ((cov * eye).sum() * load / p + 1e-8)
        prec = torch.cholesky_inverse(torch.linalg.cholesky(loaded))
        m = ((d @ prec) * d).sum(1)
        return (m * m).mean() / (p * (p + 2))

    @staticmethod
    def standardize(x):
        """(x − batch mean)/√(batch variance + 1e-5) per column."""
        m = x.mean(0, keepdim=True)
        return (x - m) / torch.sqrt(((x - m) ** 2).mean(0, keepdim=True) + 1e-5)

    def forward(self, zs, z):
        zs, z = [self.standardize(t) for t in zs], self.standardize(z)
        self.reps = [z.detach()] + [t.detach() for t in zs]  # what L_κ's moving covariances see
        l2 = 0
        for i, zi in enumerate(zs):
            others = torch.cat([zm for m, zm in enumerate(zs) if m != i], 1)
            l2 = l2 + ((self.q[i](others) - zi.detach()) ** 2).sum(1).mean()
        ld = 0
        self.flow_out = []
        for i, zi in enumerate(zs):
            u = self.flows[i](zi @ getattr(self, f"R{i}"))
            v = self.flows[i](z.detach() @ getattr(self, f"Rf{i}"))
            self.flow_out.append((u.detach(), v.detach()))
            ld = ld + (self.mmd2(u, v, i) if self.divergence == "mmd" else self.dv(self.critics[i], u, v))
        kappa = sum(self.kurtosis(t, ti) for ti, t in enumerate([z] + list(zs)))
        return 1.0 * l2 + 1.0 * ld + 1e-3 * kappa

    @torch.no_grad()
    def after_step(self, clip=3.0, decay=0.9):
        """EMA covariances of the clipped centered batch; EMA of the median
        pairwise distance of the pooled flow outputs (the bandwidth)."""
        for ti, t in enumerate(self.reps):
            B = t.shape[0]
            d = t - t.mean(0, keepdim=True)
            norms = d.norm(dim=1)
            thr = clip * torch.sqrt((norms * norms).mean())
            scale = torch.where(norms > thr, thr / norms.clamp_min(1e-30), torch.ones_like(norms))
            d = d * scale.view(B, 1)
            s = d.t() @ d / B
            self.cov[ti] = s if self.cov_updates[ti] == 0 else decay * self.cov[ti] + (1 - decay) * s
            self.cov_updates[ti] += 1
        if self.divergence != "mmd":
            return
        for i, (u, v) in enumerate(self.flow_out):
            med = torch.quantile(torch.pdist(torch.cat([u, v], 0)), 0.5).item()  # numpy-style median
            if med > 0 and math.isfinite(med):
                self.bandwidth[i] = med if self.bandwidth[i] == 0 else decay * self.bandwidth[i] + (1 - decay) * med
