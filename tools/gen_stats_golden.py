#!/usr/bin/python3
"""Golden values for the reducer (tests/test_stats_golden.cpp).

Regenerate:  /usr/bin/python3 tools/gen_stats_golden.py
Needs Debian's python3-numpy, python3-scipy, python3-pandas, python3-statsmodels, python3-mpmath.

Builds a few synthetic result matrices with a fixed seed, then computes every reported number
the way the study's notebook (seed/directed_kvcache_experiment.md) and scipy/numpy/pandas/
statsmodels define them. Writes inputs and expected outputs to tests/golden/stats_golden.json;
NaN is written as null, +-infinity as the strings "inf" / "-inf".
"""
import json
import math
import os
import platform
import sys
import warnings

import mpmath
import numpy as np
import pandas as pd
import scipy
import scipy.stats as st
import statsmodels
from statsmodels.stats.multitest import multipletests

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden",
                   "stats_golden.json")

STUDY_IDS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "C5", "D1", "E1", "E2"]
STUDY_NAMES = ["baseline", "bare_doc", "baseline_offset", "full_generated", "full_perfect",
               "full_static", "full_suffix", "trunc_generated_broken", "trunc_generated_corrected",
               "trunc_perfect_broken", "trunc_perfect_corrected", "trunc_static_corrected",
               "trunc_suffix_corrected", "random_prefix_trunc_corrected", "full_random_prefix"]
EFFECT = dict(A1=0.0, A2=-0.05, A3=-0.01, B1=0.12, B2=0.2, B3=0.05, B4=0.08, C1=-0.6, C2=0.06,
              C3=-0.55, C4=0.1, C5=0.03, D1=0.02, E1=-0.02, E2=-0.04)
LABELS = ["Easy (low NLL)", "Medium-Easy", "Medium-Hard", "Hard (high NLL)"]
CRITICAL = [("C1", "C2"), ("A1", "C2")]
ORDERING = [("C2", "D1"), ("B1", "B4")]
FULL_VS_TRUNC = [("B1", "C2"), ("B2", "C4"), ("B3", "C5")]
CORRELATION = ["C2", "B1"]


def study_like(rng, n, nan_rows=True):
    base = rng.gamma(4.0, 0.5, size=n)
    nll = np.empty((n, len(STUDY_IDS)))
    for c, cid in enumerate(STUDY_IDS):
        noise = 0.0 if cid == "A1" else rng.normal(0, 0.25, size=n)
        nll[:, c] = np.maximum(base - EFFECT[cid] + noise, 0.01)
    sim = rng.uniform(0.2, 0.95, size=n)
    done = np.ones(n, dtype=bool)
    if nan_rows:
        nll[rng.choice(n, 5, replace=False), STUDY_IDS.index("C1")] = np.nan
        nll[rng.choice(n, 2, replace=False), 0] = np.nan  # failed baseline: excluded everywhere
        nll[rng.choice(n, 3, replace=False), STUDY_IDS.index("C2")] = np.nan
        sim[rng.choice(n, 3, replace=False)] = np.nan
        not_done = rng.choice(n, 6, replace=False)
        done[not_done] = False
        nll[not_done, :] = 1e6  # rows that are not committed must never be read
    return dict(ids=STUDY_IDS, names=STUDY_NAMES, nll=nll, similarity=sim, done=done)


def small(ids, nll, sim, done=None):
    nll = np.asarray(nll, dtype=float)
    n = nll.shape[0]
    return dict(ids=ids, names=[f"cond_{i}" for i in ids], nll=nll,
                similarity=np.asarray(sim, dtype=float),
                done=np.ones(n, dtype=bool) if done is None else np.asarray(done, dtype=bool))


def cases():
    rng = np.random.default_rng(SEED)
    out = {}
    out["study_like"] = study_like(rng, 240)
    # Ties and zero deltas (values on a 0.1 grid): Wilcoxon tie correction and zero removal,
    # qcut edges landing on data values.
    tl = study_like(rng, 80, nan_rows=False)
    tl["nll"] = np.round(tl["nll"], 1)
    tl["similarity"] = np.round(tl["similarity"], 1)
    out["ties"] = tl
    ids4 = ["A1", "C1", "C2", "B1", "D1", "B4"]
    # Zero variance: C2 = A1 - 0.5 exactly (dyadic values), C1 = A1 (all deltas zero).
    a = np.arange(1, 9) / 8.0 + 1.0
    out["zero_variance"] = small(ids4, np.stack([a, a, a + 0.5, a - 0.25 * (np.arange(8) % 3),
                                                 a + 0.125, a - 0.375], 1),
                                 rng.uniform(0, 1, 8))
    # All wins: every condition below the baseline.
    a = rng.gamma(4.0, 0.5, size=12)
    out["all_wins"] = small(ids4, np.stack([a] + [a - 0.01 - np.abs(rng.normal(0, 0.2, 12))
                                                  for _ in range(5)], 1), rng.uniform(0, 1, 12))
    # Two samples: t defined (df = 1), Pearson r = +-1 with p = 1.
    out["n2"] = small(ids4, rng.gamma(4.0, 0.5, size=(2, 6)), [0.3, 0.7])
    # One usable sample (the other row not done): everything NaN.
    out["n1"] = small(ids4, rng.gamma(4.0, 0.5, size=(2, 6)), [0.3, 0.7], done=[True, False])
    # Duplicate qcut edges: pandas raises, the quartile analysis is not available.
    a = np.concatenate([np.full(12, 1.5), rng.gamma(4.0, 0.5, size=8)])
    out["qcut_duplicates"] = small(ids4, np.stack([a] + [a + rng.normal(0, 0.2, 20)
                                                         for _ in range(5)], 1), rng.uniform(0, 1, 20))
    # Failed rows: NaN in baseline, condition and similarity.
    m = study_like(rng, 30, nan_rows=False)
    m["nll"][[1, 4], STUDY_IDS.index("C2")] = np.nan
    m["nll"][7, 0] = np.nan
    m["similarity"][[2, 9]] = np.nan
    out["failed_rows"] = m
    return out


def f(x):
    """JSON has no NaN or infinity: NaN -> null, +-inf -> "inf" / "-inf"."""
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None if math.isnan(x) else x


def t_quantile(df, prob):
    """Student-t quantile to 40 digits with mpmath.

    scipy 1.10's stdtrit (cephes) is off by ~1e-10 relative (df=79, p=0.025 gives
    -1.99045020998936 against the exact -1.99045021023013), which an interval bound near zero
    turns into more than 1e-9 relative; the golden takes the exact quantile instead and checks
    scipy's own interval against it below.
    """
    mpmath.mp.dps = 40
    nu = mpmath.mpf(float(df))
    tail = mpmath.mpf(min(prob, 1 - prob))
    x = mpmath.findroot(
        lambda t: mpmath.betainc(nu / 2, 0.5, 0, nu / (nu + t * t), regularized=True) / 2 - tail,
        st.t.ppf(float(tail), df))
    return float(-abs(x) if prob < 0.5 else abs(x))


def paired_ttest(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if len(a) < 2:
        return dict(t=None, p=None, df=float(len(a) - 1), ci_low=None, ci_high=None)
    res = st.ttest_rel(a, b)
    # TtestResult.confidence_interval(0.95): stdtrit(df, tail) * se + mean, tail = (1-0.95)/2.
    se, m, tail = res._standard_error, res._estimate, (1 - 0.95) / 2
    lo, hi = t_quantile(res.df, tail) * se + m, t_quantile(res.df, 1 - tail) * se + m
    ci = res.confidence_interval(0.95)
    half = max(abs(hi - lo), 1e-300)
    assert abs(ci.low - lo) <= 1e-8 * half and abs(ci.high - hi) <= 1e-8 * half, (ci, lo, hi)
    return dict(t=f(res.statistic), p=f(res.pvalue), df=float(res.df), ci_low=f(lo),
                ci_high=f(hi))


def reduce_case(c):
    ids, nll, sim, done = c["ids"], c["nll"], c["similarity"], c["done"]
    col = {cid: k for k, cid in enumerate(ids)}
    nll, sim = nll[done], sim[done]
    b_all = nll[:, 0]
    conds = []
    for k, cid in enumerate(ids):
        ok = np.isfinite(b_all) & np.isfinite(nll[:, k])
        b, v = b_all[ok], nll[ok, k]
        delta = b - v
        row = dict(id=cid, n_used=int(ok.sum()), n_failed=int((~ok).sum()))
        if len(v):
            row.update(nll_mean=f(np.mean(v)), nll_std=f(np.std(v)), delta_mean=f(np.mean(delta)),
                       win_rate=f(np.mean(delta > 0)))
            # The notebook's Cohen's d, verbatim.
            d = np.mean(delta) / np.std(delta, ddof=1) if np.std(delta) > 0 else 0
            row["cohens_d"] = f(d)
        row.update(paired_ttest(b, v))
        try:
            w = st.wilcoxon(delta, zero_method="wilcox", correction=False, method="approx")
            row.update(wilcoxon_p=f(w.pvalue), wilcoxon_statistic=f(w.statistic))
        except ValueError:
            row.update(wilcoxon_p=None, wilcoxon_statistic=None)
        conds.append(row)
    ps = [(k, r["p"]) for k, r in enumerate(conds) if k != 0 and r["p"] is not None]
    for r in conds:
        r["p_holm"] = r["p_bh"] = None
    if ps:
        holm = multipletests([p for _, p in ps], method="holm")[1]
        bh = multipletests([p for _, p in ps], method="fdr_bh")[1]
        for (k, _), h, q in zip(ps, holm, bh):
            conds[k]["p_holm"], conds[k]["p_bh"] = float(h), float(q)

    def pair(a, b):
        if a not in col or b not in col:
            return dict(a=a, b=b, available=False)
        x, y = nll[:, col[a]], nll[:, col[b]]
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        t = paired_ttest(x, y)
        return dict(a=a, b=b, available=True, n=int(ok.sum()), n_failed=int((~ok).sum()),
                    mean_a=f(np.mean(x)), mean_b=f(np.mean(y)), std_a=f(np.std(x)),
                    std_b=f(np.std(y)), diff=f(np.mean(x) - np.mean(y)), t=t["t"], p=t["p"])

    def corr(cid):
        ok = np.isfinite(b_all) & np.isfinite(nll[:, col[cid]]) & np.isfinite(sim)
        x, y = sim[ok], b_all[ok] - nll[ok, col[cid]]
        out = dict(condition=cid, n=int(ok.sum()), n_failed=int((~ok).sum()))
        try:
            r = st.pearsonr(x, y)
            out.update(r=f(r.statistic), p=f(r.pvalue))
        except ValueError:
            out.update(r=None, p=None)
        if len(x) >= 2 and not (x == x[0]).all():
            slope, intercept = np.polyfit(x, y, 1)
            out.update(slope=f(slope), intercept=f(intercept))
        return out

    qc = "C2"
    ok = np.isfinite(b_all) & np.isfinite(nll[:, col[qc]])
    df = pd.DataFrame({"A1": b_all[ok], "C2": nll[ok, col[qc]]})
    quart = dict(condition=qc, n=int(ok.sum()), n_failed=int((~ok).sum()))
    try:
        q, edges = pd.qcut(df["A1"], q=4, labels=LABELS, retbins=True)
        rows = []
        for k, label in enumerate(LABELS):
            mask = q == label
            delta = df.loc[mask, "A1"].values - df.loc[mask, "C2"].values
            rows.append(dict(label=label, n=int(mask.sum()), edge_low=float(edges[k]),
                             edge_high=float(edges[k + 1]),
                             win_rate=f(np.mean(delta > 0)) if len(delta) else None,
                             delta_mean=f(delta.mean()) if len(delta) else None))
        quart.update(available=True, rows=rows)
    except ValueError:
        quart.update(available=False, rows=[])

    return dict(num_done=int(done.sum()), conditions=conds,
                critical=[pair(a, b) for a, b in CRITICAL],
                ordering=[pair(a, b) for a, b in ORDERING],
                full_vs_truncated=[pair(a, b) for a, b in FULL_VS_TRUNC],
                correlations=[corr(cid) for cid in CORRELATION if cid in col],
                quartiles=quart)


def primitives(rng):
    """Holm / BH on p-value vectors with ties and values near 1; qcut edges and bins."""
    out = []
    for pv in [rng.uniform(0, 0.2, 14), np.array([0.01, 0.01, 0.04, 0.04, 0.3, 0.9, 0.9, 1e-12]),
               np.concatenate([rng.uniform(0, 1, 5) ** 4, [0.5, 0.5]])]:
        out.append(dict(kind="multitest", p=[float(x) for x in pv],
                        holm=[float(x) for x in multipletests(pv, method="holm")[1]],
                        bh=[float(x) for x in multipletests(pv, method="fdr_bh")[1]]))
    for x in [rng.normal(0, 1, 37), np.round(rng.normal(0, 1, 50), 1),
              np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]), rng.uniform(0, 1, 4)]:
        codes, edges = pd.qcut(pd.Series(x), q=4, labels=False, retbins=True)
        out.append(dict(kind="qcut", x=[float(v) for v in x], q=4,
                        edges=[float(e) for e in edges], bins=[int(b) for b in codes]))
    return out


def main():
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(SEED + 1)
    golden = dict(
        header=dict(generator="tools/gen_stats_golden.py",
                    regenerate="/usr/bin/python3 tools/gen_stats_golden.py",
                    seed=SEED, python=platform.python_version(), numpy=np.__version__,
                    scipy=scipy.__version__, pandas=pd.__version__,
                    statsmodels=statsmodels.__version__, mpmath=mpmath.__version__,
                    wilcoxon="scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False, "
                             "method='approx')",
                    tolerance="1e-9 relative"),
        cases=[], primitives=primitives(rng))
    for name, c in cases().items():
        golden["cases"].append(dict(
            name=name, ids=list(c["ids"]), names=list(c["names"]),
            num_samples=int(c["nll"].shape[0]),
            nll=[f(v) for v in c["nll"].ravel()], similarity=[f(v) for v in c["similarity"]],
            done=[bool(v) for v in c["done"]], expected=reduce_case(c)))
    with open(OUT, "w") as fh:
        json.dump(golden, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {os.path.relpath(OUT)} ({len(golden['cases'])} cases)")


if __name__ == "__main__":
    main()
