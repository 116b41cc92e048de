"""PyTorch reference for `lmsweep bench train`: the same training step as lmsweep's runTrial, of
the LSTM LM (embedding -> stacked LSTM -> softmax, init uniform [-init, init], SGD at lr on the
loss summed over the unroll and averaged over the batch (Zaremba), global-norm clip, hidden state
carried across windows and detached) or of the Transformer LM (arch 'transformer':
torch_transformer.py; Adam on the per-token mean loss, each window alone), on the same token
stream, then validation perplexity on the same tokens the way evaluatePerplexity computes it
(rows of contiguous text, batch 20, windows of eval_unroll, the first token predicted from <eos>).

Argument: JSON {arch, train, valid (paths of little-endian int32 token files), vocab, embedding,
hidden, layers, heads, ffn, batch, unroll, optimizer (sgd | adam), lr, clip, init, steps (training
steps), warmup (steps not timed), eos, eval_batch, eval_unroll, seed, torch_threads}. Prints one JSON line {tokens_per_s (median timed step),
mean_tokens_per_s, valid_ppl, train_loss,
steps, torch_version, threads}.
Run with Debian's python3 (apt-get install python3-torch libopenblas0-pthread: without OpenBLAS
Debian's torch links the reference BLAS and its matmuls run ~20x slower)."""
import json
import math
import statistics
import sys
import time

import torch
from torch import nn

from torch_transformer import TransformerLm


class LstmLm(nn.Module):
    def __init__(self, vocab, emb, hidden, layers, init):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, layers)  # time-major [T, B, *]
        self.softmax = nn.Linear(hidden, vocab)
        for p in self.parameters():
            nn.init.uniform_(p, -init, init)

    def forward(self, x, state):
        out, state = self.lstm(self.embedding(x), state)
        return self.softmax(out), state


def read_tokens(path):
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.int32).to(torch.long)


class Stateless(nn.Module):
    """A Transformer behind the LSTM's (logits, state) interface: no state carries."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, state):
        return self.model(x), None


def build(cfg):
    if cfg.get('arch', 'lstm') == 'transformer':
        return Stateless(TransformerLm(cfg['vocab'], cfg['hidden'], cfg['layers'], cfg['heads'], cfg['ffn'], cfg['unroll'], cfg['init']))
    return LstmLm(cfg['vocab'], cfg['embedding'], cfg['hidden'], cfg['layers'], cfg['init'])


def zero_state(cfg, batch):
    if cfg.get('arch', 'lstm') == 'transformer':
        return None
    z = torch.zeros(cfg['layers'], batch, cfg['hidden'])
    return (z, z.clone())


def evaluate(model, cfg, tokens):
    """Perplexity as lmsweep's evaluatePerplexity: up to eval_batch contiguous rows from a zero
    state, the remainder continuing the last row at batch 1."""
    n = len(tokens)
    unroll = cfg['eval_unroll']
    rows = max(1, min(cfg['eval_batch'], n // unroll))
    row_len = n // rows
    prev = torch.cat([torch.tensor([cfg['eos']]), tokens[:-1]])
    total = 0.0
    with torch.no_grad():
        def run(starts, length, state):
            nonlocal total
            for s in range(0, length, unroll):
                t = min(unroll, length - s)
                idx = torch.stack([torch.arange(b + s, b + s + t) for b in starts], dim=1)  # [t, batch]
                logits, state = model(prev[idx], state)
                total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[idx].reshape(-1), reduction='sum').item()
            return state

        state = run([b * row_len for b in range(rows)], row_len, zero_state(cfg, rows))
        rest = n - rows * row_len
        if rest > 0:
            state = None if state is None else tuple(s[:, rows - 1:rows].contiguous() for s in state)
            run([rows * row_len], rest, state)
    return math.exp(total / n)


def main():
    cfg = json.loads(sys.argv[1])
    # the caller's choice (train.ts: 1 for the LSTM, OpenBLAS keeping its own threads)
    torch.set_num_threads(cfg.get('torch_threads', 1))
    torch.manual_seed(cfg.get('seed', 0))
    train = read_tokens(cfg['train'])
    valid = read_tokens(cfg['valid'])
    B, T = cfg['batch'], cfg['unroll']
    row_len = len(train) // B
    windows = (row_len - 1) // T
    stream = train[: B * row_len].view(B, row_len).t().contiguous()  # [row_len, B], as LmBatches
    model = build(cfg)
    adam = cfg.get('optimizer', 'sgd') == 'adam'
    opt = torch.optim.Adam(model.parameters(), lr=cfg['lr']) if adam else torch.optim.SGD(model.parameters(), lr=cfg['lr'])
    state = zero_state(cfg, B)
    step_s = []
    loss_value = float('nan')
    for s in range(cfg['steps']):
        t0 = time.perf_counter()
        w = s % windows
        if w == 0:
            state = zero_state(cfg, B)
        x = stream[w * T: (w + 1) * T]
        y = stream[w * T + 1: (w + 1) * T + 1]
        logits, state = model(x, state)
        if state is not None:
            state = tuple(h.detach() for h in state)
        # SGD: Σ over the unroll, mean over the batch = per-token mean × T (Zaremba); Adam: the per-token mean (runTrial's).
        loss = nn.functional.cross_entropy(logits.reshape(-1, cfg['vocab']), y.reshape(-1)) * (1 if adam else T)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg['clip'])
        opt.step()
        loss_value = loss.item() / (1 if adam else T)
        if s >= cfg['warmup']:
            step_s.append(time.perf_counter() - t0)
    # The median step: on a shared machine it is least moved by other processes' bursts.
    tokens_per_s = B * T / statistics.median(step_s) if step_s else None
    mean_tokens_per_s = B * T * len(step_s) / sum(step_s) if step_s else None
    ppl = evaluate(model, cfg, valid)
    print(json.dumps({'tokens_per_s': tokens_per_s, 'mean_tokens_per_s': mean_tokens_per_s, 'valid_ppl': ppl, 'train_loss': loss_value, 'steps': cfg['steps'], 'torch_version': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)


if __name__ == '__main__':
    main()
