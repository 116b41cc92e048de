# The reference of `lmsweep bench load`: Optuna (Debian's python3-optuna) doing ask/tell with an
# instant objective from P processes against its RDB storage on the same PostgreSQL server.
# argv: SQLAlchemy URL, processes, trials. Prints one JSON line: trials/s between the first
# process's first ask and the last process's last tell (process start-up and study loading are
# outside the timed span).
import json
import multiprocessing as mp
import sys
import time

import optuna


def work(args):
    url, n = args
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="bench", storage=optuna.storages.RDBStorage(url))
    start = time.time()
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("lr", 1e-3, 1.0, log=True))
    return start, time.time()


def main():
    url, procs, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="bench", storage=optuna.storages.RDBStorage(url))
    per = [trials // procs + (1 if i < trials % procs else 0) for i in range(procs)]
    with mp.get_context("fork").Pool(procs) as pool:
        spans = pool.map(work, [(url, n) for n in per])
    seconds = max(e for _, e in spans) - min(s for s, _ in spans)
    print(json.dumps({"optuna": optuna.__version__, "processes": procs, "trials": trials, "seconds": seconds, "trialsPerSecond": trials / seconds}))


if __name__ == "__main__":
    main()
