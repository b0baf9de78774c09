# Copied from the project brief's shared/peers/torch_reference.py: the PyTorch speed peer bench/compare.sh runs.
"""PyTorch port of the reference tutorial's U-Net diffusion training step, used as a
performance peer on the same machine (Debian's python3-torch, CPU).

Usage: /usr/bin/python3 torch_reference.py --features 16 --steps 20 [--threads 2] [--sample-steps 0]
Prints one line of JSON: parameter count, median train-step seconds, and (optionally) seconds
for a reverse-diffusion loop of --sample-steps steps on --sample-batch images.
"""
import argparse, json, math, statistics, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ChannelNorm(nn.Module):
    """LayerNorm over the channel axis of an NCHW tensor (Flax LayerNorm on NHWC, eps 1e-6)."""
    def __init__(self, c):
        super().__init__()
        self.ln = nn.LayerNorm(c, eps=1e-6)

    def forward(self, x):
        return self.ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def gelu(x):
    return F.gelu(x, approximate="tanh")


class Residual(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm1 = ChannelNorm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = ChannelNorm(cout)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        identity = self.shortcut(x)
        x = gelu(self.norm1(self.conv1(x)))
        x = gelu(self.norm2(self.conv2(x)))
        return x + identity


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.q = nn.Linear(c, c)
        self.k = nn.Linear(c, c)
        self.v = nn.Linear(c, c)

    def forward(self, x):
        b, c, h, w = x.shape
        y = x.permute(0, 2, 3, 1).reshape(b, h * w, c)
        q, k, v = self.q(y), self.k(y), self.v(y)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
        out = (a @ v).reshape(b, h, w, c).permute(0, 3, 1, 2)
        return x + out


class UNet(nn.Module):
    def __init__(self, cin=1, cout=1, f=64, temb=128):
        super().__init__()
        self.temb = temb
        self.time_mlp_1 = nn.Linear(temb, temb)
        self.time_mlp_2 = nn.Linear(temb, temb)
        self.proj = nn.ModuleList([nn.Linear(temb, f * m) for m in (1, 2, 4, 8)])
        self.down = nn.ModuleList([Residual(cin, f), Residual(f, 2 * f), Residual(2 * f, 4 * f), Residual(4 * f, 8 * f)])
        self.att1, self.att2 = Attention(4 * f), Attention(8 * f)
        self.bridge_down, self.bridge_att, self.bridge_up = Residual(8 * f, 16 * f), Attention(16 * f), Residual(16 * f, 16 * f)
        self.up4, self.up3 = Residual(24 * f, 8 * f), Residual(12 * f, 4 * f)
        self.up2, self.up1 = Residual(6 * f, 2 * f), Residual(3 * f, f)
        self.final_norm = ChannelNorm(f)
        self.final_conv = nn.Conv2d(f, cout, 3, padding=1)

    def pos(self, t):
        half = self.temb // 2
        e = math.log(10000.0) / (half - 1)
        e = torch.exp(torch.arange(half, dtype=torch.float32) * -e)
        e = t.float()[:, None] * e[None, :]
        return torch.cat([torch.sin(e), torch.cos(e)], dim=1)

    @staticmethod
    def pool(x):
        return F.max_pool2d(x, 2, 2, ceil_mode=True)

    @staticmethod
    def up(x, size):
        return F.interpolate(x, size=(size, size), mode="nearest")

    def forward(self, x, t):
        te = self.time_mlp_2(gelu(self.time_mlp_1(self.pos(t))))
        t1, t2, t3, t4 = [p(te)[:, :, None, None] for p in self.proj]
        d1 = self.down[0](x) + t1
        d2 = self.down[1](self.pool(d1)) + t2
        d3 = self.att1(self.down[2](self.pool(d2))) + t3
        d4 = self.att2(self.down[3](self.pool(d3))) + t4
        b = self.bridge_up(self.bridge_att(self.bridge_down(self.pool(d4))))
        u4 = self.up4(torch.cat([self.up(b, d4.shape[2]), d4], 1))
        u3 = self.up3(torch.cat([self.up(u4, d3.shape[2]), d3], 1))
        u2 = self.up2(torch.cat([self.up(u3, d2.shape[2]), d2], 1))
        u1 = self.up1(torch.cat([self.up(u2, d1.shape[2]), d1], 1))
        return self.final_conv(gelu(self.final_norm(u1)))


def cosine_schedule(n=1000, lo=1e-4, hi=0.02):
    x = np.linspace(0, n, n + 1) / n
    a = np.cos(((x + 0.008) / 1.008) * np.pi * 0.5) ** 2
    a = a / a[0]
    b = np.clip(1 - a[1:] / a[:-1], lo, hi)
    return np.concatenate([b[:1], b])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", type=int, default=16)
    ap.add_argument("--batch", type=int, default=172)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample-steps", type=int, default=0)
    ap.add_argument("--sample-batch", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    model = UNet(f=a.features)
    nparams = sum(p.numel() for p in model.parameters())
    beta = torch.tensor(cosine_schedule(), dtype=torch.float32)
    ac = torch.cumprod(1 - beta, 0)
    sac, s1ac = ac.sqrt(), (1 - ac).sqrt()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=2e-5)
    images = torch.rand(a.batch, 1, 8, 8)

    def step():
        t = torch.randint(0, 1000, (a.batch,))
        noise = torch.randn_like(images)
        noisy = (sac[t][:, None, None, None] * images + s1ac[t][:, None, None, None] * noise).requires_grad_(True)
        pred = model(noisy, t)
        snr = (sac[t] / s1ac[t])[:, None, None, None]
        main = ((snr / (1 + snr)) * (noise - pred) ** 2).mean()
        (g,) = torch.autograd.grad(pred.mean(), noisy, create_graph=True)
        loss = main + 0.02 * (g ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p in model.parameters():
            p.grad.clamp_(-0.3, 0.3)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    times = []
    for _ in range(a.steps):
        s = time.perf_counter()
        step()
        times.append(time.perf_counter() - s)
    out = {"peer": "pytorch-" + torch.__version__, "features": a.features, "batch": a.batch, "threads": a.threads,
           "params": nparams, "train_step_s_median": statistics.median(times), "train_step_s_min": min(times)}
    if a.sample_steps:
        alpha = 1 - beta
        with torch.no_grad():
            x = torch.randn(a.sample_batch, 1, 8, 8)
            s = time.perf_counter()
            for i in reversed(range(a.sample_steps)):
                tb = torch.full((a.sample_batch,), i)
                eps = model(x, tb)
                x = (x - (1 - alpha[i]) / s1ac[i] * eps) / alpha[i].sqrt()
                if i > 0:
                    x = x + beta[i].sqrt() * torch.randn_like(x)
            out["sample_s"] = time.perf_counter() - s
            out["sample_steps"] = a.sample_steps
            out["sample_batch"] = a.sample_batch
    print(json.dumps(out))


if __name__ == "__main__":
    main()
