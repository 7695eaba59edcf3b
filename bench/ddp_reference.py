"""The Python PyTorch baseline of `scripts/bench.sh distributed`: the report model of a MedScribe
config.json (ViT + projector + LLaMA decoder, the same shapes and operations as src/model) trained
with torch.nn.parallel.DistributedDataParallel over gloo, on batches of fixed shape.

Run under torch.distributed.run (one process per rank); rank 0 prints one line:
  samples_per_s=X params_decoder=N params_vision=M seq=T
Usage: ddp_reference.py CONFIG_JSON --batch B --text-tokens T --steps S [--threads N]
"""
import argparse
import json
import math
import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


class VitBlock(nn.Module):
    def __init__(self, h, heads, ratio):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(h), nn.LayerNorm(h)
        self.qkv, self.proj = nn.Linear(h, 3 * h), nn.Linear(h, h)
        self.fc1, self.fc2 = nn.Linear(h, ratio * h), nn.Linear(ratio * h, h)

    def forward(self, x):
        b, t, h = x.shape
        d = h // self.heads
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), -1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, h))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class RmsNorm(nn.Module):
    def __init__(self, h, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(h)), eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


class Layer(nn.Module):
    def __init__(self, d):
        super().__init__()
        h, self.nh, self.nkv = d["hidden_size"], d["num_attention_heads"], d["num_key_value_heads"]
        self.hd = h // self.nh
        self.input_layernorm = RmsNorm(h, d["rms_norm_eps"])
        self.post_attention_layernorm = RmsNorm(h, d["rms_norm_eps"])
        self.q = nn.Linear(h, self.nh * self.hd, bias=False)
        self.k = nn.Linear(h, self.nkv * self.hd, bias=False)
        self.v = nn.Linear(h, self.nkv * self.hd, bias=False)
        self.o = nn.Linear(self.nh * self.hd, h, bias=False)
        i = d["intermediate_size"]
        self.gate, self.up = nn.Linear(h, i, bias=False), nn.Linear(h, i, bias=False)
        self.down = nn.Linear(i, h, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        y = self.input_layernorm(x)
        q = self.q(y).view(b, t, self.nh, self.hd).transpose(1, 2)
        k = self.k(y).view(b, t, self.nkv, self.hd).transpose(1, 2)
        v = self.v(y).view(b, t, self.nkv, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = self.nh // self.nkv
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.hd) + mask, -1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, -1))
        y = self.post_attention_layernorm(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class ReportModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        v, p, d = c["vision"], c["projector"], c["decoder"]
        self.grid, self.pool = v["image_size"] // v["patch_size"], p["pool"]
        self.patch = nn.Conv2d(v["channels"], v["hidden_size"], v["patch_size"], v["patch_size"])
        self.pos = nn.Parameter(torch.randn(1, self.grid * self.grid, v["hidden_size"]) * 0.02)
        self.blocks = nn.ModuleList(
            VitBlock(v["hidden_size"], v["heads"], v["mlp_ratio"]) for _ in range(v["layers"]))
        self.vnorm = nn.LayerNorm(v["hidden_size"])
        self.fc1 = nn.Linear(v["hidden_size"], p["hidden_size"])
        self.fc2 = nn.Linear(p["hidden_size"], d["hidden_size"])
        self.embed = nn.Embedding(d["vocab_size"], d["hidden_size"])
        self.layers = nn.ModuleList(Layer(d) for _ in range(d["num_hidden_layers"]))
        self.norm = RmsNorm(d["hidden_size"], d["rms_norm_eps"])
        self.tied = d["tie_word_embeddings"]
        if not self.tied:
            self.lm_head = nn.Linear(d["hidden_size"], d["vocab_size"], bias=False)
        hd = d["hidden_size"] // d["num_attention_heads"]
        inv = 1.0 / (d["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(d["max_position_embeddings"]).float(), inv)
        self.register_buffer("cos", torch.cat([f, f], -1).cos(), persistent=False)
        self.register_buffer("sin", torch.cat([f, f], -1).sin(), persistent=False)

    def vision(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2) + self.pos
        for b in self.blocks:
            x = b(x)
        x = self.vnorm(x)
        if self.pool:
            b, _, h = x.shape
            x = x.transpose(1, 2).reshape(b, h, self.grid, self.grid)
            x = F.avg_pool2d(x, 2).flatten(2).transpose(1, 2)
        return self.fc2(F.gelu(self.fc1(x)))

    def forward(self, images, ids):
        x = torch.cat([self.vision(images), self.embed(ids)], 1)
        t = x.shape[1]
        mask = torch.full((t, t), -1e9).triu(1)
        cos, sin = self.cos[:t], self.sin[:t]
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        x = self.norm(x)
        return x @ self.embed.weight.t() if self.tied else self.lm_head(x)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("config")
    a.add_argument("--batch", type=int, required=True)
    a.add_argument("--text-tokens", type=int, required=True)
    a.add_argument("--steps", type=int, default=10)
    a.add_argument("--threads", type=int, default=1)
    o = a.parse_args()
    torch.set_num_threads(o.threads)
    dist.init_process_group("gloo")
    c = json.load(open(o.config))
    torch.manual_seed(0)
    model = ReportModel(c)
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.01)
    v = c["vision"]
    images = torch.rand(o.batch, v["channels"], v["image_size"], v["image_size"])
    ids = torch.randint(4, c["decoder"]["vocab_size"], (o.batch, o.text_tokens))
    seq = None
    for step in range(o.steps + 2):  # two warm-up steps
        if step == 2:
            dist.barrier()
            t0 = time.time()
        logits = ddp(images, ids)
        seq = logits.shape[1]
        loss = F.cross_entropy(logits[:, -o.text_tokens:-1].reshape(-1, logits.shape[-1]),
                               ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    dist.barrier()
    secs = time.time() - t0
    if dist.get_rank() == 0:
        world = dist.get_world_size()
        nv = sum(p.numel() for n, p in model.named_parameters()
                 if n.startswith(("patch", "pos", "blocks", "vnorm", "fc1", "fc2")))
        nd = sum(p.numel() for p in model.parameters()) - nv
        print(f"samples_per_s={o.steps * o.batch * world / secs:.3f} params_decoder={nd} "
              f"params_vision={nv} seq={seq}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
