"""Reference values for libs/algorithms/src/stats.test.ts (50-digit mpmath).

Run: python3 libs/algorithms/scripts/reference-values.py
Prints TypeScript literals to paste into the test.
"""
import mpmath as mp

mp.mp.dps = 50


def t_quantile(p, df):
    if df == mp.inf:
        return mp.sqrt(2) * mp.erfinv(2 * p - 1)
    p, df = mp.mpf(p), mp.mpf(df)
    # Upper tail 0.5·I_{df/(df+t²)}(df/2, 1/2) = 1 − p, solved by bisection-safe root finding.
    f = lambda t: 0.5 * mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) - (1 - p)
    lo, hi = mp.mpf(0), mp.mpf(1)
    while f(hi) > 0:
        hi *= 2
    for _ in range(200):  # bisection: the tail decreases in t
        mid = (lo + hi) / 2
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


cases = [(0.975, 1), (0.975, 2), (0.975, 3), (0.975, 4), (0.975, 9), (0.975, 29), (0.975, 100), (0.95, 10), (0.995, 5),
         (0.9, 3), (0.999, 7), (0.6, 15), (0.975, 2.5), (0.9999, 3), (0.975, 1e6), (0.975, mp.inf)]
print("// t quantiles: [p, df, t]")
for p, df in cases:
    t = t_quantile(mp.mpf(p), df)
    print(f"    [{p}, {'Infinity' if df == mp.inf else repr(df)}, {mp.nstr(t, 17)}],")
print("// logGamma(100.5) =", mp.nstr(mp.loggamma(mp.mpf("100.5")), 17))
print("// normalQuantile(1e-10) =", mp.nstr(mp.sqrt(2) * mp.erfinv(2 * mp.mpf("1e-10") - 1), 17))
