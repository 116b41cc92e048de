"""Reference values for libs/algorithms/src/svd.test.ts and low-rank.test.ts (numpy, float64 LAPACK).

Run: python3 libs/algorithms/scripts/svd-reference.py
Writes libs/algorithms/scripts/svd-reference.json: small .npy files as numpy writes them (base64),
and small fixed matrices with their full list of
singular values, the leading singular vectors, and the frequency-weighted rank-r error
Σᵢ qᵢ‖Aᵢ − Âᵢ‖² / Σᵢ qᵢ‖Aᵢ‖² (q normalized) of the weighted SVD (SVD of diag(√q)·A, Â = A·V·Vᵀ).
"""
import base64
import io
import json
import os

import numpy as np

rng = np.random.default_rng(20181203)


def case(name, A, rank, q=None):
    A = np.asarray(A, dtype=np.float64)
    U, S, Vt = np.linalg.svd(A, full_matrices=False)
    out = {
        "name": name,
        "rows": A.shape[0],
        "cols": A.shape[1],
        "data": A.ravel().tolist(),
        "rank": rank,
        "S": S.tolist(),
        "U": U[:, :rank].ravel().tolist(),
        "Vt": Vt[:rank].ravel().tolist(),
        # Eckart–Young: ‖A − A_r‖_F² = Σ_{i>r} σᵢ².
        "tailEnergy": float(np.sum(S[rank:] ** 2)),
    }
    if q is not None:
        q = np.asarray(q, dtype=np.float64)
        w = q / q.sum()
        _, _, Vw = np.linalg.svd(np.sqrt(w)[:, None] * A, full_matrices=False)
        V = Vw[:rank].T
        R = A - A @ V @ V.T
        out["q"] = q.tolist()
        out["weightedError"] = float(np.sum(w * np.sum(R**2, axis=1)) / np.sum(w * np.sum(A**2, axis=1)))
    return out


def low_rank_plus_noise(n, d, r, noise):
    return rng.standard_normal((n, r)) @ rng.standard_normal((r, d)) + noise * rng.standard_normal((n, d))


def with_singular_values(n, d, s):
    Q1, _ = np.linalg.qr(rng.standard_normal((n, len(s))))
    Q2, _ = np.linalg.qr(rng.standard_normal((d, len(s))))
    return Q1 @ np.diag(s) @ Q2.T


zipf = lambda n: 1.0 / np.arange(1, n + 1)
cases = [
    case("random 12x5", rng.standard_normal((12, 5)), 3),
    case("wide 7x10", rng.standard_normal((7, 10)), 4),
    case("low rank plus noise 60x20", low_rank_plus_noise(60, 20, 4, 0.05), 6),
    case("graded 30x8 (sigma 1 .. 1e-3.5)", with_singular_values(30, 8, 10.0 ** (-0.5 * np.arange(8))), 5),
    case("weighted zipf 40x8", rng.standard_normal((40, 8)), 3, q=rng.permutation(zipf(40))),
    case("weighted with zeros 25x6", low_rank_plus_noise(25, 6, 2, 0.3), 2, q=np.where(np.arange(25) % 4 == 0, 0.0, rng.uniform(0.1, 5, 25))),
]


def npy_bytes(a, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode()


# .npy files as numpy writes them, for libs/algorithms/src/npy.test.ts (base64).
m = np.arange(6, dtype=np.float64).reshape(2, 3) / 4 - 0.5
npy = {
    "f4 2x3 v1.0": npy_bytes(m.astype("<f4"), (1, 0)),
    "f8 2x3 v2.0": npy_bytes(m, (2, 0)),
    "f8 vector v1.0": npy_bytes(np.array([1.5, -2.25, 3.0])),
    "f8 fortran": npy_bytes(np.asfortranarray(m)),
    "i4": npy_bytes(np.arange(3, dtype=np.int32)),
    "f4 big-endian": npy_bytes(m.astype(">f4")),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "svd-reference.json")
with open(path, "w") as f:
    json.dump({"generator": "libs/algorithms/scripts/svd-reference.py", "numpy": np.__version__, "cases": cases, "npy": npy}, f)
print(f"wrote {path}")
