"""PyTorch reference for `lmsweep bench phm`: dense x@W and the factored PHM product, forward and
forward+backward, fastest of >= 3 runs in ms. Argument: JSON {sizes, batches, ns}; prints one JSON line per row.
Run with Debian's python3 (apt-get install python3-torch; Debian's torch links the generic
reference BLAS: install libopenblas0-pthread too, or its matmuls run ≈ 20× slower)."""
import json
import sys
import time

import torch


def best_ms(f, budget_s=0.3):
    f()
    f()
    runs = []
    start = time.perf_counter()
    while len(runs) < 3 or (len(runs) < 40 and time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        f()
        runs.append((time.perf_counter() - t0) * 1000)
    return min(runs)


def phm_factored(x, a, s):
    # x:[B, n*p], a:[n, n, n] (A_i = a[i]), s:[n, p, q] -> x · sum_i A_i kron S_i : [B, n*q]
    b = x.shape[0]
    n, p, q = s.shape
    u = torch.einsum('bap,iac->bicp', x.view(b, n, p), a)
    return torch.einsum('bicp,ipq->bcq', u, s).reshape(b, n * q)


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(1)  # one thread, like the wasm backend under Node
    torch.manual_seed(0)
    for d in cfg['sizes']:
        for batch in cfg['batches']:
            x = (torch.rand(batch, d) * 0.2 - 0.1).requires_grad_()
            dy = torch.rand(batch, d) * 0.2 - 0.1
            w = (torch.rand(d, d) * 0.2 - 0.1).requires_grad_()

            def dense_fwd():
                with torch.no_grad():
                    x @ w

            def dense_both():
                (x @ w).backward(dy)

            dense = (best_ms(dense_fwd), best_ms(dense_both, 0.6))
            for n in cfg['ns']:
                if d % n:
                    continue
                a = (torch.rand(n, n, n) * 0.2 - 0.1).requires_grad_()
                s = (torch.rand(n, d // n, d // n) * 0.2 - 0.1).requires_grad_()

                def phm_fwd():
                    with torch.no_grad():
                        phm_factored(x, a, s)

                def phm_both():
                    phm_factored(x, a, s).backward(dy)

                phm = (best_ms(phm_fwd), best_ms(phm_both, 0.6))
                for k, name in enumerate(['forward', 'forward+backward']):
                    print(json.dumps({'d': d, 'n': n, 'batch': batch, 'pass': name, 'dense_ms': dense[k], 'phm_factored_ms': phm[k]}), flush=True)


if __name__ == '__main__':
    main()
