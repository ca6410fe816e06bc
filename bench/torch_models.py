"""PyTorch ports of synergo's EF-LSTM and TFN (synergy/models/eflstm.go,
tfn.go) and of the synergy regularizer (synergy/regularizer.go, step.go,
covariance.go), for timing side by side with the Go implementation.

Shapes, hyper-parameters (MMSA's defaults per data set), batch sizes,
float32, dropout, the L1 loss, AdamW and the elementwise gradient clip (5)
follow the Go code. Differences that do not change the work: the batch
normalization of EF-LSTM runs inside the model here (Go normalizes in Feed
and keeps the affine part in the graph); nn.LSTM runs over all T steps and
the last valid step is gathered (Go's LSTM holds the state after the end:
the same arithmetic, and the same h at the last valid step).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# MMSA defaults, as models.Default*Config in Go.
EFLSTM_CFG = {
    "mosi": dict(hidden=128, layers=4, dropout=0.5, batch=32, lr=1e-3, wd=5e-3),
    "mosei": dict(hidden=256, layers=2, dropout=0.4, batch=128, lr=5e-3, wd=1e-4),
}
TFN_CFG = {
    "mosi": dict(text_hidden=128, audio_hidden=32, vision_hidden=128, text_out=32, post=64,
                 pa=0.3, pv=0.3, pt=0.3, pf=0.5, batch=32, lr=1e-3, wd=0.0),
    "mosei": dict(text_hidden=128, audio_hidden=16, vision_hidden=128, text_out=128, post=16,
                  pa=0.4, pv=0.4, pt=0.4, pf=0.4, batch=128, lr=5e-3, wd=0.0),
}
# datasets.Synthetic presets: (train size, T, (D_text, D_audio, D_vision)).
PRESETS = {"mosi": (1284, 50, (300, 5, 20)), "mosei": (16326, 50, (300, 74, 35))}


def last_valid(h, lengths):
    """h (B, T, H), lengths (B) → h[b, lengths[b]−1] (B, H)."""
    idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, h.shape[2])
    return h.gather(1, idx).squeeze(1)


class EFLSTM(nn.Module):
    """Early-fusion LSTM: per-step BatchNorm1d(T), per-modality linear
    embeddings, a stack of LSTMs, ReLU hidden layer (Fused) and output."""

    def __init__(self, dims, T, hidden, layers, dropout):
        super().__init__()
        self.bn = nn.BatchNorm1d(T)
        self.embed_dims = [min(d, hidden) for d in dims]
        self.embeds = nn.ModuleList(nn.Linear(d, e) for d, e in zip(dims, self.embed_dims))
        self.lstm = nn.LSTM(sum(self.embed_dims), hidden, num_layers=layers, dropout=dropout, batch_first=True)
        self.dropout = dropout
        self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.dims = dims

    def forward(self, xs, lengths, mean_weights):
        cat = self.bn(torch.cat(xs, 2))
        parts = torch.split(cat, self.dims, 2)
        emb = [e(p) for e, p in zip(self.embeds, parts)]
        unimodal = [torch.bmm(w.unsqueeze(1), e).squeeze(1) for w, e in zip(mean_weights, emb)]
        h, _ = self.lstm(torch.cat(emb, 2))
        last = F.dropout(last_valid(h, lengths), self.dropout, self.training)
        fused = F.relu(self.hidden(last))
        pred = self.out(F.dropout(fused, self.dropout, self.training)).squeeze(1)
        return unimodal, fused, pred


class SubNet(nn.Module):
    """TFN's audio/vision sub-network: BatchNorm, dropout, 3 ReLU layers."""

    def __init__(self, d, hidden, p):
        super().__init__()
        self.bn = nn.BatchNorm1d(d)
        self.p = p
        self.l1, self.l2, self.l3 = nn.Linear(d, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)

    def forward(self, x):
        x = F.dropout(self.bn(x), self.p, self.training)
        return F.relu(self.l3(F.relu(self.l2(F.relu(self.l1(x))))))


class TFN(nn.Module):
    """Tensor Fusion Network: F = [1;Z_a]⊗[1;Z_v]⊗[1;Z_t] flattened, dropout,
    Linear-ReLU, Linear-ReLU (Fused), Linear, 6σ(y)−3."""

    def __init__(self, dims, c):
        super().__init__()
        self.audio = SubNet(dims[1], c["audio_hidden"], c["pa"])
        self.vision = SubNet(dims[2], c["vision_hidden"], c["pv"])
        self.text_lstm = nn.LSTM(dims[0], c["text_hidden"], batch_first=True)
        self.text_out = nn.Linear(c["text_hidden"], c["text_out"])
        self.pt, self.pf = c["pt"], c["pf"]
        fused_in = (c["audio_hidden"] + 1) * (c["vision_hidden"] + 1) * (c["text_out"] + 1)
        self.post1 = nn.Linear(fused_in, c["post"])
        self.post2 = nn.Linear(c["post"], c["post"])
        self.post3 = nn.Linear(c["post"], 1)

    def forward(self, xs, lengths, mean_weights):
        text, audio, vision = xs
        h, _ = self.text_lstm(text)
        zt = self.text_out(F.dropout(last_valid(h, lengths), self.pt, self.training))
        za = self.audio(torch.bmm(mean_weights[1].unsqueeze(1), audio).squeeze(1))
        zv = self.vision(torch.bmm(mean_weights[2].unsqueeze(1), vision).squeeze(1))
        B = zt.shape[0]
        one = torch.ones(B, 1)
        a, v, t = torch.cat([one, za], 1), torch.cat([one, zv], 1), torch.cat([one, zt], 1)
        f = torch.bmm(torch.bmm(a.unsqueeze(2), v.unsqueeze(1)).view(B, -1, 1), t.unsqueeze(1)).view(B, -1)
        f = F.dropout(f, self.pf, self.training)
        y1 = F.relu(self.post1(f))
        fused = F.relu(self.post2(y1))
        pred = 6 * torch.sigmoid(self.post3(fused)).squeeze(1) - 3
        return [zt, za, zv], fused, pred


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
    """The C-network with synergy.DefaultConfig: L2 (Q_i), L_d (fixed
    projections, invertible g_i, MMD² with 3 median-heuristic bandwidths or
    Donsker–Varadhan KL with critics), L_κ (Mardia kurtosis of Z and every
    Z_i with the in-graph EMA covariance, clipping, loading and inverse)."""

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

    def forward(self, zs, z):
        l2 = 0
        for i, zi in enumerate(zs):
            others = torch.cat([zm for m, zm in enumerate(zs) if m != i], 1)
            l2 = l2 + ((self.q[i](others) - zi) ** 2).sum(1).mean()
        ld = 0
        self.flow_out = []
        for i, zi in enumerate(zs):
            u = self.flows[i](zi @ getattr(self, f"R{i}"))
            v = self.flows[i](z @ getattr(self, f"Rf{i}"))
            self.flow_out.append((u.detach(), v.detach()))
            ld = ld + (self.mmd2(u, v, i) if self.divergence == "mmd" else self.dv(self.critics[i], u, v))
        kappa = sum(self.kurtosis(t, ti) for ti, t in enumerate([z] + list(zs)))
        self.reps = [z.detach()] + [t.detach() for t in zs]
        return 1.0 * l2 + 1.0 * ld + 0.1 * kappa

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
