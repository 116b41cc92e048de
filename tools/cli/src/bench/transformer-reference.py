"""Writes libs/nn/src/fixtures/transformer-torch.json, the reference libs/nn's
transformer-torch.test.ts checks lmsweep's Transformer against: a tiny model built by PyTorch
(torch_transformer.py) from seed 0, its initial weights under lmsweep's names, and the losses of
STEPS plain SGD steps (lr LR on the loss summed over the window and averaged over the batch, as
runTrial's SGD) on a fixed token stream. Regenerate: /usr/bin/python3 tools/cli/src/bench/transformer-reference.py"""
import json
import os

import torch
from torch import nn

from torch_transformer import TransformerLm, lmsweep_weights

VOCAB, D, LAYERS, HEADS, FFN, T, B, INIT, LR, STEPS = 23, 16, 2, 4, 40, 6, 3, 0.3, 0.1, 20


def main():
    torch.manual_seed(0)
    model = TransformerLm(VOCAB, D, LAYERS, HEADS, FFN, T, INIT)
    weights = lmsweep_weights(model)
    g = torch.Generator().manual_seed(1)
    # a stream with structure to learn: token i+1 follows i mostly, time-major windows [T, B]
    stream = torch.empty(STEPS, T + 1, B, dtype=torch.long)
    for s in range(STEPS):
        start = torch.randint(0, VOCAB, (B,), generator=g)
        noise = torch.randint(0, 4, (T + 1, B), generator=g) == 0
        seq = (start + torch.arange(T + 1).unsqueeze(1)) % VOCAB
        stream[s] = torch.where(noise, torch.randint(0, VOCAB, (T + 1, B), generator=g), seq)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for s in range(STEPS):
        x, y = stream[s, :T], stream[s, 1:]
        loss_sum = nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1), reduction='sum')
        opt.zero_grad()
        (loss_sum / B).backward()
        opt.step()
        losses.append(loss_sum.item() / (T * B))
    out = {
        'generator': 'tools/cli/src/bench/transformer-reference.py',
        'torch': torch.__version__,
        'config': {'vocab': VOCAB, 'hidden': D, 'layers': LAYERS, 'heads': HEADS, 'ffn': FFN, 'context': T, 'batch': B, 'initScale': INIT, 'lr': LR},
        # time-major windows, flattened: x[s][t·B + b], y likewise
        'x': [stream[s, :T].reshape(-1).tolist() for s in range(STEPS)],
        'y': [stream[s, 1:].reshape(-1).tolist() for s in range(STEPS)],
        'weights': {k: {'shape': shape, 'data': data} for k, (shape, data) in weights.items()},
        'losses': losses,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, '..', '..', '..', '..', 'libs', 'nn', 'src', 'fixtures', 'transformer-torch.json')
    with open(path, 'w') as f:
        json.dump(out, f)
        f.write('\n')
    print(f'wrote {os.path.normpath(path)}: losses {losses[0]:.4f} → {losses[-1]:.4f}')


if __name__ == '__main__':
    main()
