# The reference of `lmsweep bench search`: Optuna (Debian's python3-optuna) on the same test
# functions as libs/search/src/problems.ts, defined again here (the bench checks both give the
# same values at the points Optuna chose). argv: one JSON object
#   {"problems": [...], "samplers": [...], "reps": R, "trials": T, "processes": P, "timing": N}
# Prints one JSON line per (problem, sampler, repetition) with the points tried and their values,
# then, when timing > 0, one line with Optuna TPE's seconds per suggestion after N finished trials.
import json
import math
import multiprocessing as mp
import sys
import time

import optuna


def branin(t):
    x1 = t.suggest_float("x1", -5, 10)
    x2 = t.suggest_float("x2", 0, 15)
    b, c, s = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - s) * math.cos(x1) + 10


H_ALPHA = [1, 1.2, 3, 3.2]
H_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H_P = [[v * 1e-4 for v in row] for row in [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]]


def hartmann6(t):
    x = [t.suggest_float(f"x{j + 1}", 0, 1) for j in range(6)]
    return -sum(H_ALPHA[i] * math.exp(-sum(H_A[i][j] * (x[j] - H_P[i][j]) ** 2 for j in range(6))) for i in range(4))


COLOR = {"red": 0, "green": 0.25, "blue": 0.5, "black": 0.75}


def mixed(t):
    kind = t.suggest_categorical("kind", ["a", "b", "c"])
    if kind == "a":
        f = 0.6 + 0.1 * (t.suggest_float("x", -5, 5) - 1.5) ** 2
    elif kind == "b":
        y = t.suggest_float("y", 0.001, 10, log=True)
        z = t.suggest_int("z", 0, 20, step=2)
        f = 0.5 * (math.log10(y) + 1) ** 2 + ((z - 8) / 10) ** 2
    else:
        f = 0.3 + 0.1 * (math.log2(t.suggest_int("n", 1, 64, log=True)) - 3) ** 2
    color = t.suggest_categorical("color", ["red", "green", "blue", "black"])
    u = t.suggest_float("u", 0, 1)
    return f + COLOR[color] + (u - 0.3) ** 2


def zdt1(t):
    x = [t.suggest_float(f"x{j + 1}", 0, 1) for j in range(6)]
    g = 1 + 9 * sum(x[1:]) / 5
    return x[0], g * (1 - math.sqrt(x[0] / g))


PROBLEMS = {"branin": (branin, 1), "hartmann6": (hartmann6, 1), "mixed": (mixed, 1), "zdt1": (zdt1, 2)}


def sampler_of(name, seed):
    if name == "optuna-tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "optuna-tpe-multivariate":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
    if name == "optuna-nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "optuna-random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(name)


def run(job):
    problem, sampler, rep, trials = job
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fn, k = PROBLEMS[problem]
    study = optuna.create_study(directions=["minimize"] * k, sampler=sampler_of(sampler, rep))
    start = time.time()
    study.optimize(fn, n_trials=trials)
    seconds = time.time() - start
    values = [list(t.values) for t in study.trials]
    return {"problem": problem, "sampler": sampler, "rep": rep, "points": [t.params for t in study.trials], "values": values, "seconds": seconds}


def timing(n):
    """Optuna TPE's seconds per suggestion (ask and the parameters) with n finished trials of Hartmann-6."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(hartmann6, n_trials=n)
    study.sampler = optuna.samplers.TPESampler(seed=0)
    times = []
    for _ in range(5):
        start = time.time()
        trial = study.ask()
        hartmann6(trial)
        times.append(time.time() - start)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    times.sort()
    return {"timing": "optuna-tpe", "finished": n, "seconds": times[len(times) // 2]}


def main():
    cfg = json.loads(sys.argv[1])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # NSGA-II is for the two-objective function only.
    jobs = [(p, s, r, cfg["trials"]) for p in cfg["problems"] for s in cfg["samplers"] if s != "optuna-nsga2" or PROBLEMS[p][1] == 2 for r in range(cfg["reps"])]
    with mp.get_context("fork").Pool(max(1, cfg.get("processes", 1))) as pool:
        for out in pool.imap(run, jobs):
            print(json.dumps({"optuna": optuna.__version__, **out}), flush=True)
    if cfg.get("timing", 0) > 0:
        print(json.dumps({"optuna": optuna.__version__, **timing(cfg["timing"])}), flush=True)


if __name__ == "__main__":
    main()
