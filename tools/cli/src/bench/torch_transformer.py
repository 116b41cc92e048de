"""lmsweep's Transformer LM (libs/nn transformer-lm.ts) in PyTorch, layer for layer: decoder-only,
pre-norm (h + attn(LN(h)), then h + ffn(LN(h)), a final LN), causal multi-head attention written
out (torch 1.13 has no fused one), GELU in its tanh form, learned positions, time-major [T, B]
input. Init as lmsweep's: matrices, embedding and positions uniform on [-init, init], biases 0,
layer norms 1 and 0. `lmsweep_weights` gives the parameters under lmsweep's names and layouts
(a Linear's weight [out, in] becomes W:[in, out])."""
import math

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln2 = nn.LayerNorm(d)
        self.ffn_in = nn.Linear(d, ffn)
        self.ffn_out = nn.Linear(ffn, d)

    def forward(self, h):
        T, B, d = h.shape
        H = self.heads
        a = self.ln1(h)
        split = lambda x: x.reshape(T, B, H, d // H).permute(1, 2, 0, 3)  # [B, H, T, dh]
        q, k, v = split(self.q(a)), split(self.k(a)), split(self.v(a))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // H)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        att = torch.softmax(scores.masked_fill(mask, float('-inf')), dim=-1) @ v
        h = h + self.o(att.permute(2, 0, 1, 3).reshape(T, B, d))
        return h + self.ffn_out(nn.functional.gelu(self.ffn_in(self.ln2(h)), approximate='tanh'))


class TransformerLm(nn.Module):
    def __init__(self, vocab, d, layers, heads, ffn, context, init):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d)
        self.positions = nn.Parameter(torch.empty(context, d))
        self.blocks = nn.ModuleList(Block(d, heads, ffn) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.softmax = nn.Linear(d, vocab)
        for name, p in self.named_parameters():
            if 'ln' in name or name.startswith('norm'):
                nn.init.constant_(p, 1.0 if name.endswith('weight') else 0.0)
            elif name.endswith('bias'):
                nn.init.zeros_(p)
            else:
                nn.init.uniform_(p, -init, init)

    def forward(self, x):
        T = x.shape[0]
        h = self.embedding(x) + self.positions[:T].unsqueeze(1)
        for blk in self.blocks:
            h = blk(h)
        return self.softmax(self.norm(h))


def lmsweep_weights(model):
    """{name: (shape, flat float list)} under lmsweep's variable names."""
    out = {}

    def put(name, t):
        out[name] = (list(t.shape), t.detach().reshape(-1).tolist())

    put('embedding/E', model.embedding.weight)
    put('positions/P', model.positions)
    for l, blk in enumerate(model.blocks):
        put(f'block.{l}.ln1/g', blk.ln1.weight)
        put(f'block.{l}.ln1/b', blk.ln1.bias)
        for p in 'qkvo':
            lin = getattr(blk, p)
            put(f'block.{l}.{p}/W', lin.weight.t())
            put(f'block.{l}.{p}/b', lin.bias)
        put(f'block.{l}.ln2/g', blk.ln2.weight)
        put(f'block.{l}.ln2/b', blk.ln2.bias)
        for ours, lin in (('ffn.in', blk.ffn_in), ('ffn.out', blk.ffn_out)):
            put(f'block.{l}.{ours}/W', lin.weight.t())
            put(f'block.{l}.{ours}/b', lin.bias)
    put('norm/g', model.norm.weight)
    put('norm/b', model.norm.bias)
    put('softmax/W', model.softmax.weight.t())
    put('softmax/b', model.softmax.bias)
    return out
