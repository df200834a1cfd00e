#!/usr/bin/python3
"""scikit-learn side of bench/compare-sklearn (benchmark only; Debian's python3-sklearn).

Reads the exact matrices Vigil trained and tested on (written by bench/compare-sklearn.ts):
  DIR/meta.json                    {"features": [...], "classes": [...], "benign": int|null,
                                    "train_rows": n, "test_rows": m, "d": d}
  DIR/train_x.f64, DIR/test_x.f64  row-major little-endian float64
  DIR/train_y.i32, DIR/test_y.i32  class indices, little-endian int32
fits the scikit-learn counterparts of Vigil's models with their defaults and prints one JSON
object per model on stdout: macro-F1 over the classes present in the test labels (supervised),
ROC-AUC benign vs attack (IsolationForest, fitted on the benign training rows as Vigil's is),
training wall and CPU seconds, and single-thread scoring throughput (best of 5 windows).

  compare.py --make-synthetic DIR   writes the synthetic 80,000 x 80, 8-class speed-test data
                                    (make_classification) in the same layout, for both sides.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

SEED = 0
# Scoring throughput: the best of SCORE_WINDOWS windows of at least WINDOW_SECONDS each (passes over
# the test rows), as timeit's best-of: the machine is shared, the best window is the least disturbed.
SCORE_WINDOWS = 5
WINDOW_SECONDS = 0.3


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    nf = meta["d"]

    def mat(name, rows):
        return np.fromfile(os.path.join(d, name), dtype="<f8").reshape(rows, nf)

    xtr = mat("train_x.f64", meta["train_rows"])
    xte = mat("test_x.f64", meta["test_rows"])
    ytr = np.fromfile(os.path.join(d, "train_y.i32"), dtype="<i4")
    yte = np.fromfile(os.path.join(d, "test_y.i32"), dtype="<i4")
    return meta, xtr, ytr, xte, yte


def throughput(fn, x):
    """Rows per second of fn(x) on one thread (OpenMP/BLAS limited to 1): best window."""
    best = 0.0
    with threadpool_limits(1):
        for _ in range(SCORE_WINDOWS):
            rows = 0
            t0 = time.perf_counter()
            while True:
                fn(x)
                rows += len(x)
                el = time.perf_counter() - t0
                if el >= WINDOW_SECONDS:
                    break
            best = max(best, rows / el)
    return best


def timed_fit(est, x, y=None):
    w0, c0 = time.perf_counter(), time.process_time()
    est.fit(x) if y is None else est.fit(x, y)
    return time.perf_counter() - w0, time.process_time() - c0


def supervised(name, est, xtr, ytr, xte, yte, one_thread):
    wall, cpu = timed_fit(est, xtr, ytr)
    one_thread(est)
    pred = est.predict(xte)
    f1 = f1_score(yte, pred, labels=np.unique(yte), average="macro", zero_division=0)
    return {
        "model": name,
        "macro_f1": float(f1),
        "train_wall_s": wall,
        "train_cpu_s": cpu,
        "score_rows_per_s": throughput(est.predict_proba, xte),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--models", default="random_forest,gradient_boosting,isolation_forest,logistic_regression")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--make-synthetic")
    a = ap.parse_args()

    if a.make_synthetic:
        x, y = make_classification(
            n_samples=100_000, n_features=80, n_informative=20, n_redundant=20,
            n_classes=8, random_state=42)
        os.makedirs(a.make_synthetic, exist_ok=True)
        d = a.make_synthetic
        x[:80_000].astype("<f8").tofile(os.path.join(d, "train_x.f64"))
        x[80_000:].astype("<f8").tofile(os.path.join(d, "test_x.f64"))
        y[:80_000].astype("<i4").tofile(os.path.join(d, "train_y.i32"))
        y[80_000:].astype("<i4").tofile(os.path.join(d, "test_y.i32"))
        json.dump({"features": [f"f{i}" for i in range(80)], "classes": [f"class{i}" for i in range(8)],
                   "benign": None, "train_rows": 80_000, "test_rows": 20_000, "d": 80},
                  open(os.path.join(d, "meta.json"), "w"))
        return

    meta, xtr, ytr, xte, yte = load(a.dir)
    models = a.models.split(",")
    info = {"sklearn": sklearn.__version__, "numpy": np.__version__, "threads": a.threads}
    print(json.dumps({"info": info}), flush=True)

    def single(est):
        if hasattr(est, "n_jobs"):
            est.n_jobs = 1

    if "random_forest" in models:
        est = RandomForestClassifier(n_estimators=100, n_jobs=a.threads, random_state=SEED)
        print(json.dumps(supervised("random_forest", est, xtr, ytr, xte, yte, single)), flush=True)
    if "gradient_boosting" in models:
        # OpenMP threads are fixed at start-up by OMP_NUM_THREADS (set by the driver).
        est = HistGradientBoostingClassifier(random_state=SEED)
        r = supervised("gradient_boosting", est, xtr, ytr, xte, yte, single)
        r["iterations"] = int(est.n_iter_)
        # For reference: the same with Vigil's default L2 regularisation (0.1).
        est = HistGradientBoostingClassifier(random_state=SEED, l2_regularization=0.1)
        r["l2_vigil"] = supervised("gradient_boosting", est, xtr, ytr, xte, yte, single)
        r["l2_vigil"]["iterations"] = int(est.n_iter_)
        print(json.dumps(r), flush=True)
    if "logistic_regression" in models:
        est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        print(json.dumps(supervised("logistic_regression", est, xtr, ytr, xte, yte, single)), flush=True)
    if "isolation_forest" in models and meta.get("benign") is not None:
        b = meta["benign"]
        base = xtr[ytr == b]
        est = IsolationForest(n_estimators=100, max_samples=256, random_state=SEED)
        wall, cpu = timed_fit(est, base)
        attack = (yte != b).astype(int)
        score = -est.score_samples(xte)  # sklearn's score_samples is -s(x)
        auc = roc_auc_score(attack, score) if 0 < attack.sum() < len(attack) else None
        print(json.dumps({
            "model": "isolation_forest",
            "roc_auc": auc,
            "train_wall_s": wall,
            "train_cpu_s": cpu,
            "score_rows_per_s": throughput(est.score_samples, xte),
        }), flush=True)


if __name__ == "__main__":
    sys.exit(main())
