"""TF-IDF + one-vs-rest logistic regression: the baseline the default model must beat.

Called by src/tools/train/baseline.ts, never alone. The TypeScript side builds the data exactly
as for the default model (dataset.ts codiespSplits: same labels, CodiEsp train in the same
seeded cross-validation folds, CodiEsp dev held out as test) and writes it to a work dir;
this script only turns texts into probabilities. Thresholds and every reported figure are
computed afterwards in TypeScript (thresholds.ts, metrics.ts), exactly as for the default
model, so the two are compared like for like.

Protocol (the project's, as in train.ts / laat.py):
- For each grid point and each fold k, a model (vectoriser included) is fitted on the other
  folds and scores fold k; together these give out-of-fold probabilities, one row per
  training document from a model that never saw it.
- Selection: the grid point with the best out-of-fold micro-F1 at the best global threshold
  (the same threshold grid and `>=` rule as thresholds.ts, which then tunes its global
  threshold on the same out-of-fold probabilities). Ties go to the first in grid order:
  smaller min_df, unweighted, smaller C.
- The chosen setting is refitted on all training documents and scores test. The test set is
  never used to fit, select or tune anything.

Design:
- Vectoriser: word 1-2 grams, lower-cased, accents stripped, sublinear tf, idf; fitted on
  the training part of each fold only (fitting the vocabulary or idf on the held-out fold
  would leak it), and for the final model on all training documents. Rows are L2-normalised
  (TfidfVectorizer's default). A term must occur in >= min_df of the documents the
  vectoriser is fitted on: with a few hundred documents most bigrams are singletons, which
  only add noise and weights, so min_df is selected rather than fixed. It is a document
  count, so the final model (all folds) keeps slightly rarer terms than the fold models.
- Classifier: one binary LogisticRegression per label (L2, liblinear: the usual solver for
  small sparse problems, several times faster than lbfgs here for the same scores; its
  coordinate descent is seeded). Written out instead of OneVsRestClassifier so that a label
  with no positive (or no negative) training document - which happens with --limit and in
  small folds - gets a constant probability rather than an exception.
- Grid: min_df in {2, 5, 10}, C on a log2 grid (0.25 to 256) and class_weight in
  {None, 'balanced'}: 66 points, each fitted once per fold. It is the grid of the earlier
  single-validation-split protocol (where min_df 10, C 16, balanced won), kept whole because
  66 x 5 fold fits take under 5 minutes on two busy cores (min_df 2, the largest vocabulary,
  is about half of that). Out of fold the pick is min_df 10, C 256, balanced: C at the grid
  edge, but on a plateau (checked once: C 512-4096 add at most 0.004 out-of-fold micro-F1,
  pushing the threshold to the 0.05 floor; min_df 15 and 20 are worse), so the grid was not
  extended.
- Speed: the (min_df, fold) jobs run in --processes worker processes (liblinear is single
  threaded); each job vectorises once and fits the 22 (class_weight, C) points.
- Deterministic: liblinear is seeded (--seed), the inputs come in a fixed order, results are
  gathered in job order whatever the scheduling, and nothing else is random.

Input (--work): train.jsonl ({"id", "text", "codes", "fold"} per line, fold in 0..K-1),
test.jsonl ({"id", "text", "codes"}) and labels.json (the codes, in label order).
Output (--work): baseline-oof-probabilities.json (per training document, train.jsonl order)
and baseline-test-probabilities.json (per test document), each per label in label order,
and baseline.json (chosen hyper-parameters, the selection grid, vocabulary size, versions,
seconds). Runs on Debian's python3-sklearn (/usr/bin/python3). Progress goes to stderr.
"""
import argparse
import json
import multiprocessing
import os
import sys
import time

# Exit status 3 tells baseline.ts that a dependency is missing (not that the script failed).
MISSING_DEPENDENCY = 3
try:
    import numpy as np
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
except ImportError as error:
    print(f"baseline.py needs numpy and scikit-learn ({error}); with {sys.executable}", file=sys.stderr)
    sys.exit(MISSING_DEPENDENCY)

MIN_DF_GRID = [2, 5, 10]
C_GRID = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256]
CLASS_WEIGHTS = [None, "balanced"]
# The global-threshold grid of thresholds.ts: 0.05 to 0.95 in steps of 0.01.
THRESHOLDS = [round(0.05 + 0.01 * i, 4) for i in range(91)]


def log(message):
    print(message, file=sys.stderr, flush=True)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def targets(docs, codes):
    """Binary matrix [documents, labels]."""
    index = {code: l for l, code in enumerate(codes)}
    y = np.zeros((len(docs), len(codes)), dtype=np.int8)
    for k, doc in enumerate(docs):
        for code in doc["codes"]:
            if code in index:
                y[k, index[code]] = 1
    return y


def fit_predict(x_fit, y_fit, x_others, c, class_weight, seed):
    """One logistic regression per label on x_fit; probabilities of each matrix in x_others."""
    outputs = [np.zeros((x.shape[0], y_fit.shape[1])) for x in x_others]
    for l in range(y_fit.shape[1]):
        y = y_fit[:, l]
        if y.min() == y.max():
            # A single class in the training documents: nothing to learn, predict it.
            for out in outputs:
                out[:, l] = float(y[0])
            continue
        model = LogisticRegression(C=c, class_weight=class_weight, solver="liblinear", max_iter=1000, random_state=seed)
        model.fit(x_fit, y)
        for x, out in zip(x_others, outputs):
            out[:, l] = model.predict_proba(x)[:, 1]
    return outputs


def best_micro_f1(probabilities, y):
    """Best micro-F1 over the global threshold grid, and its threshold.

    A selection criterion only: the reported figures come from metrics.ts. baseline.ts checks
    that this value equals metrics.ts's micro-F1 at the global threshold it tunes.
    """
    gold = y.astype(bool)
    best, best_t = -1.0, 0.5
    for t in THRESHOLDS:
        predicted = probabilities >= t
        tp = int(np.sum(predicted & gold))
        fp = int(np.sum(predicted & ~gold))
        fn = int(np.sum(~predicted & gold))
        f1 = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
        # Ties to the threshold nearest 0.5, as in thresholds.ts.
        if f1 > best + 1e-12 or (abs(f1 - best) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = f1, t
    return best, best_t


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f)
        f.write("\n")


def vectorise(fit, others, min_df):
    """TF-IDF matrices: the vectoriser is fitted on `fit` texts only, then applied to the others."""
    vectorizer = TfidfVectorizer(lowercase=True, strip_accents="unicode", ngram_range=(1, 2),
                                 min_df=min_df, sublinear_tf=True, dtype=np.float64)
    x_fit = vectorizer.fit_transform(doc["text"] for doc in fit)
    return x_fit, [vectorizer.transform(doc["text"] for doc in docs) for docs in others], len(vectorizer.vocabulary_)


# Set in the parent before the pool forks; the workers read it instead of receiving the texts per job.
STATE = {}


def fold_job(job):
    """One (min_df, fold) job: vectorise the fold's training part, score the fold at every (class_weight, C)."""
    min_df, fold = job
    train, y, folds, seed = STATE["train"], STATE["y"], STATE["folds"], STATE["seed"]
    fit_index = np.flatnonzero(folds != fold)
    held_index = np.flatnonzero(folds == fold)
    started = time.perf_counter()
    x_fit, (x_held,), vocabulary = vectorise([train[i] for i in fit_index], [[train[i] for i in held_index]], min_df)
    probabilities = {}
    for class_weight in CLASS_WEIGHTS:
        for c in C_GRID:
            (probabilities[(class_weight, c)],) = fit_predict(x_fit, y[fit_index], [x_held], c, class_weight, seed)
    log(f"baseline: minDf={min_df} fold {fold} ({len(fit_index)} fit, {len(held_index)} held out, "
        f"vocabulary {vocabulary}) in {time.perf_counter() - started:.1f} s")
    return {"minDf": min_df, "fold": fold, "heldIndex": held_index, "vocabularySize": vocabulary, "probabilities": probabilities}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, help="dir with train.jsonl (with folds), test.jsonl and labels.json")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--processes", type=int, default=2, help="worker processes for the fold fits")
    args = parser.parse_args()
    started = time.perf_counter()

    codes = json.load(open(os.path.join(args.work, "labels.json"), encoding="utf-8"))
    train, test = (read_jsonl(os.path.join(args.work, f"{name}.jsonl")) for name in ("train", "test"))
    if any(not isinstance(doc.get("fold"), int) or doc["fold"] < 0 for doc in train):
        sys.exit("baseline.py: every train.jsonl line needs a non-negative integer \"fold\"")
    folds = np.array([doc["fold"] for doc in train])
    fold_ids = sorted(set(folds.tolist()))  # with --limit, some folds may be empty
    if len(fold_ids) < 2:
        sys.exit(f"baseline.py: cross-validation needs at least 2 non-empty folds, got {len(fold_ids)}")
    y_train = targets(train, codes)
    log(f"baseline: train {len(train)} documents in {len(fold_ids)} folds, test {len(test)}; {len(codes)} labels")

    # Tiny runs (--limit) have fewer documents in a fold's training part than the larger min_df values.
    smallest_fit = min(int(np.sum(folds != k)) for k in fold_ids)
    min_dfs = [m for m in MIN_DF_GRID if m <= smallest_fit] or [1]
    jobs = [(min_df, k) for min_df in min_dfs for k in fold_ids]
    STATE.update(train=train, y=y_train, folds=folds, seed=args.seed)
    processes = max(1, min(args.processes, len(jobs)))
    log(f"baseline: {len(min_dfs) * len(CLASS_WEIGHTS) * len(C_GRID)} grid points x {len(fold_ids)} folds, "
        f"{len(jobs)} jobs on {processes} processes")
    if processes == 1:
        results = [fold_job(job) for job in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            results = pool.map(fold_job, jobs, chunksize=1)
    cv_seconds = round(time.perf_counter() - started, 2)

    grid = []
    best = None
    for min_df in min_dfs:
        parts = [r for r in results if r["minDf"] == min_df]
        for class_weight in CLASS_WEIGHTS:
            for c in C_GRID:
                oof = np.zeros(y_train.shape)
                for part in parts:
                    oof[part["heldIndex"]] = part["probabilities"][(class_weight, c)]
                f1, t = best_micro_f1(oof, y_train)
                grid.append({"minDf": min_df, "vocabularySizes": [p["vocabularySize"] for p in parts], "C": c,
                             "classWeight": class_weight, "outOfFoldMicroF1": round(f1, 4), "threshold": t})
                log(json.dumps(grid[-1]))
                # Only a strict improvement replaces the best: ties stay with the earlier (simpler) setting.
                if best is None or f1 > best["f1"] + 1e-12:
                    best = {"f1": f1, "threshold": t, "minDf": min_df, "C": c, "classWeight": class_weight, "oof": oof}

    # The chosen setting, refitted on all training documents, scores test.
    x_train, (x_test,), vocabulary = vectorise(train, [test], best["minDf"])
    (p_test,) = fit_predict(x_train, y_train, [x_test], best["C"], best["classWeight"], args.seed)
    # Full precision (repr floats): baseline.ts recomputes the selection score from these.
    write_json(os.path.join(args.work, "baseline-oof-probabilities.json"), best["oof"].tolist())
    write_json(os.path.join(args.work, "baseline-test-probabilities.json"), p_test.tolist())
    summary = {
        "hyperParameters": {
            "C": best["C"], "classWeight": best["classWeight"], "minDf": best["minDf"],
            "solver": "liblinear", "penalty": "l2", "ngramRange": [1, 2], "sublinearTf": True,
            "lowercase": True, "stripAccents": "unicode", "seed": args.seed,
        },
        # Full precision: baseline.ts compares it with metrics.ts.
        "selection": {"outOfFoldMicroF1": best["f1"], "threshold": best["threshold"], "folds": len(fold_ids), "grid": grid},
        "vocabularySize": vocabulary,
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
        "processes": processes,
        "crossValidationSeconds": cv_seconds,
        "seconds": round(time.perf_counter() - started, 2),
    }
    write_json(os.path.join(args.work, "baseline.json"), summary)
    log(f"baseline: chose minDf={best['minDf']} C={best['C']} classWeight={best['classWeight']} "
        f"(out-of-fold micro-F1 {best['f1']:.4f} at threshold {best['threshold']}; final vocabulary {vocabulary}) "
        f"in {summary['seconds']} s (cross-validation {cv_seconds} s)")


if __name__ == "__main__":
    main()
