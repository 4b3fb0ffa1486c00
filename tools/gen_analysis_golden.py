#!/usr/bin/env python3
"""Golden values for the declared analyses (tests/test_analyses_golden.cpp).

Regenerate:  .venv/bin/python tools/gen_analysis_golden.py
Needs numpy, scipy and pandas (tools/setup-python.sh puts them in .venv).

Builds result matrices with per-sample variables (answer tokens, passage words, query text,
similarity) from a fixed seed, declares analyses the way a config's `report:` block does, and
computes every number independently of dkv's C++:
  - exclusions: min answer tokens, then any condition non-finite, over committed rows;
  - primary: scipy.stats.ttest_rel(a, b) and its confidence_interval(0.95); study d =
    mean / std(ddof=1) (0 when np.std == 0); Bonferroni and Holm written from their definitions
    (Holm 1979), as statsmodels' multipletests computes reject and the adjusted p;
  - bootstrap: dkv::Rng (xoshiro256** seeded through SplitMix64) re-implemented below, the
    same n indices per resample, numpy.quantile of the resampled d;
  - strata: pandas.qcut(x, k, labels=False) and pandas.cut(x, edges, right=..., labels=False)
    (NaN and out-of-range values get no bin); intent: first rule whose substring occurs in
    query.lower(); Pearson r of the baseline NLL with the benefit: scipy.stats.pearsonr;
  - routing: top-K by d, per-sample numpy.min over the pool; a rule routes by stratum label;
  - gating: numpy.where(baseline >= threshold, baseline - condition, 0), thresholds given or
    numpy.percentile(baseline, p) (linear); share primed = mean(baseline >= threshold);
  - PMI: NLL(condition) - NLL(reference), its mean and std(ddof=1), d of reference - condition.
The spec goes into the golden as JSON, which is also YAML: the test parses it as a config's
`report:` block, so the YAML reader is exercised too. NaN -> null in the outputs.
"""
import json
import os
import platform
import sys

import numpy as np
import pandas as pd
import scipy
import scipy.stats as st

SEED = 20251201
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "analyses_golden.json")
IDS = ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "C5", "D1", "E1", "E2"]
EFFECT = dict(A1=0.0, A2=-0.05, A3=-0.01, B1=0.12, B2=0.2, B3=0.05, B4=0.08, C1=-0.6, C2=0.06,
              C3=-0.55, C4=0.1, C5=0.03, D1=0.02, E1=-0.02, E2=-0.04)
M64 = (1 << 64) - 1

# stats::default_intent_rules() (src/stats/strata.cpp), copied: the golden's first intent
# stratum uses the defaults, so a change there must be made here too.
DEFAULT_INTENT = [
    ("definitional", ["what is ", "what are ", "what does ", "define", "definition", "meaning"]),
    ("procedural", ["how to ", "how do ", "how can ", "how does ", "steps ", "way to "]),
    ("transactional", ["cost", "price", "how much", "buy", "cheap", "fee", "salary", "pay "]),
    ("comparison", [" vs ", " vs. ", "versus", "difference between", "compare", "better than"]),
    ("factual", ["who ", "when ", "where ", "which ", "how many ", "how long ", "how old ", "what year"]),
    ("medical", ["symptom", "disease", "treatment", "pain", "infection", "medication", "doctor", "cancer", "blood"]),
]
QUERIES = ["what is a cell membrane", "how to bake bread", "cost of a new roof", "python vs java speed",
           "who wrote hamlet", "symptoms of flu", "Define entropy", "how much is a tesla", "WHERE IS PERU",
           "difference between rna and dna", "chest pain on the left", "best pizza near me", "rome",
           "how do magnets work", "what year did ww2 end", "treatment for a sprained ankle"]


class Rng:
    """dkv::Rng: xoshiro256** (Blackman & Vigna 2018), state from four SplitMix64 outputs."""

    def __init__(self, seed):
        x = seed & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def next_u64(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, bound):
        limit = M64 - (M64 % bound)  # UINT64_MAX - UINT64_MAX % bound, as the C++
        while True:
            x = self.next_u64()
            if x < limit:
                return x % bound


def study_d(d):
    d = np.asarray(d, dtype=float)
    if d.size == 0:
        return float("nan")
    return float(np.mean(d) / np.std(d, ddof=1)) if np.std(d) > 0 else 0.0


def delta_stats(d):
    d = np.asarray(d, dtype=float)
    if d.size == 0:
        return dict(n=0, delta_mean=None, d=None, win_rate=None)
    return dict(n=int(d.size), delta_mean=float(np.mean(d)), d=study_d(d), win_rate=float(np.mean(d > 0)))


def make_case(rng, n, grid=False):
    base = rng.gamma(4.0, 0.5, size=n)
    nll = np.empty((n, len(IDS)))
    for c, cid in enumerate(IDS):
        noise = 0.0 if cid == "A1" else rng.normal(0, 0.25, size=n)
        # Benefit grows with hardness for B/C conditions, so strata and gating differ by bin.
        slope = 0.08 * (base - 2.0) if cid[0] in "BC" and EFFECT[cid] > 0 else 0.0
        nll[:, c] = np.maximum(base - EFFECT[cid] - slope + noise, 0.01)
    if grid:
        nll = np.round(nll, 1)
    nll[rng.choice(n, 4, replace=False), IDS.index("C1")] = np.nan
    nll[rng.choice(n, 2, replace=False), IDS.index("C2")] = np.nan
    nll[rng.choice(n, 1, replace=False), 0] = np.nan
    done = np.ones(n, dtype=bool)
    not_done = rng.choice(n, 5, replace=False)
    done[not_done] = False
    nll[not_done, :] = 1e6  # never read
    answer_tokens = rng.integers(1, 31, size=n).astype(float)
    passage_words = rng.integers(40, 301, size=n).astype(float)
    query = [QUERIES[i] for i in rng.integers(0, len(QUERIES), size=n)]
    sim = rng.uniform(0.2, 0.95, size=n)
    sim[rng.choice(n, 3, replace=False)] = np.nan
    return dict(ids=IDS, nll=nll, done=done, answer_tokens=answer_tokens, passage_words=passage_words,
                query=query, similarity=sim)


def assign(stratum, x_rows, queries):
    """Bin index per analysis row (-1 = none) and labels, as pandas / the rules define them."""
    if stratum.get("variable") == "intent":
        rules = [(r["label"], r["contains"]) for r in stratum["rules"]] if "rules" in stratum else DEFAULT_INTENT
        out = []
        for q in queries:
            ql = q.lower()
            k = next((i for i, (_, subs) in enumerate(rules) if any(s in ql for s in subs)), len(rules))
            out.append(k)
        return np.array(out), [r[0] for r in rules] + [stratum.get("other", "other")], None
    if "quantiles" in stratum:
        k = stratum["quantiles"]
        codes, edges = pd.qcut(x_rows, k, labels=False, retbins=True)
        codes = np.where(np.isnan(codes), -1, codes).astype(int)
        return codes, [f"Q{i + 1}" for i in range(k)], edges
    edges = stratum["bins"]
    right = stratum.get("right", False)
    codes = pd.cut(x_rows, edges, right=right, labels=False)
    codes = np.where(np.isnan(codes), -1, codes).astype(int)
    fmt = lambda v: f"{v:g}"
    labels = [(f"({fmt(edges[i])}, {fmt(edges[i + 1])}]" if right else f"[{fmt(edges[i])}, {fmt(edges[i + 1])})")
              for i in range(len(edges) - 1)]
    return codes, labels, edges


def analyze(case, spec, baseline="A1"):
    nll = case["nll"].copy()
    ids = case["ids"]
    col = {c: i for i, c in enumerate(ids)}
    done = case["done"].copy()
    n_all = nll.shape[0]
    ex = spec.get("exclusions", {})
    keep = np.ones(n_all, dtype=bool)
    n_tok = n_nan = 0
    for s in range(n_all):
        if not done[s]:
            continue
        if ex.get("min_answer_tokens", 0) > 0 and not case["answer_tokens"][s] >= ex["min_answer_tokens"]:
            keep[s] = False; n_tok += 1; continue
        if ex.get("any_condition_nan", False) and not np.all(np.isfinite(nll[s])):
            keep[s] = False; n_nan += 1
    out = {"exclusions": dict(done=int(done.sum()), min_answer_tokens=n_tok, any_condition_nan=n_nan,
                              kept=int((done & keep).sum()))}
    nll, done = nll[keep], done[keep]
    var = {k: np.asarray(case[k])[keep] for k in ("answer_tokens", "passage_words", "similarity")}
    query = [q for q, k in zip(case["query"], keep) if k]
    var["query_words"] = np.array([float(len(q.split())) for q in query])
    b_all = nll[:, col[baseline]]
    var["baseline_nll"] = b_all
    rows = np.where(done & np.isfinite(b_all))[0]
    conds = [c for c in ids if c != baseline]
    fin = np.isfinite(nll)

    # Primary.
    pr = spec.get("primary")
    if pr:
        res, ps = [], []
        for a, b in pr["comparisons"]:
            mask = done & fin[:, col[a]] & fin[:, col[b]]
            xa, xb = nll[mask, col[a]], nll[mask, col[b]]
            t = st.ttest_rel(xa, xb)
            ci = t.confidence_interval(0.95)
            d = xa - xb
            row = dict(a=a, b=b, t=float(t.statistic), p=float(t.pvalue), ci_low=float(ci.low), ci_high=float(ci.high),
                       **delta_stats(d))
            if "bootstrap" in spec:
                bs = spec["bootstrap"]
                r = Rng(bs["seed"])
                ds = []
                for _ in range(bs["resamples"]):
                    idx = [r.below(len(d)) for _ in range(len(d))]
                    ds.append(study_d(d[idx]))
                tail = (1 - bs.get("confidence", 0.95)) / 2
                row["d_boot_low"], row["d_boot_high"] = (float(v) for v in np.quantile(ds, [tail, 1 - tail]))
            res.append(row); ps.append(row["p"])
        p = np.array(ps); m = len(p); alpha = pr.get("alpha", 0.05)
        if pr.get("correction", "bonferroni") == "bonferroni":
            reject = p <= alpha / m
            adj = np.minimum(p * m, 1.0)
        else:
            order = np.argsort(p, kind="stable")
            ps_sorted = p[order]
            notreject = np.maximum.accumulate(ps_sorted > alpha / np.arange(m, 0, -1))
            adj_sorted = np.minimum(np.maximum.accumulate((m - np.arange(m)) * ps_sorted), 1.0)
            reject = np.empty(m, dtype=bool); reject[order] = ~notreject
            adj = np.empty(m); adj[order] = adj_sorted
        for row, rj, pa in zip(res, reject, adj):
            row["reject"], row["p_adjusted"] = bool(rj), float(pa)
        out["primary"] = res

    # Strata and the hardness-benefit correlation.
    strata_out, bins_of = [], {}
    for s in spec.get("strata", []):
        v = s.get("variable", "baseline_nll")
        x = None if v == "intent" else (nll[:, col[v[4:]]] if v.startswith("nll.") else var[v])[rows]
        codes, labels, edges = assign(s, x, [query[i] for i in rows])
        labels = s.get("labels", labels)
        bins_of[s["name"]] = (codes, labels)
        bins = []
        for k, lab in enumerate(labels):
            in_bin = rows[codes == k]
            cells = {}
            for c in conds:
                sel = in_bin[fin[in_bin, col[c]]]
                cells[c] = delta_stats(b_all[sel] - nll[sel, col[c]])
            bins.append(dict(label=lab, n=int(len(in_bin)), conditions=cells,
                             edge_low=None if edges is None else float(edges[k]),
                             edge_high=None if edges is None else float(edges[k + 1])))
        strata_out.append(dict(name=s["name"], n=int((codes >= 0).sum()), n_outside=int((codes < 0).sum()), bins=bins))
    if strata_out:
        out["strata"] = strata_out
        hard = []
        for c in conds:
            sel = rows[fin[rows, col[c]]]
            r = st.pearsonr(b_all[sel], b_all[sel] - nll[sel, col[c]])
            hard.append(dict(condition=c, n=int(len(sel)), r=float(r.statistic), p=float(r.pvalue)))
        out["hardness"] = hard

    # Routing.
    rt = spec.get("routing")
    if rt is not None:
        cand = rt.get("candidates", conds)
        rr = rows[np.all(fin[np.ix_(rows, [col[c] for c in cand])], axis=1)]
        ds = [study_d(b_all[rr] - nll[rr, col[c]]) for c in cand]
        order = sorted(range(len(cand)), key=lambda i: (np.isnan(ds[i]), -ds[i] if not np.isnan(ds[i]) else 0))
        ranking = [dict(condition=cand[i], d=ds[i]) for i in order]
        kmax = min(rt.get("max_k", 0) or len(cand), len(cand))
        oracle = []
        for k in range(1, kmax + 1):
            pool = [cand[i] for i in order[:k]]
            best = np.min(nll[np.ix_(rr, [col[c] for c in pool])], axis=1)
            oracle.append(dict(k=k, pool=pool, nll_mean=float(np.mean(best)), **delta_stats(b_all[rr] - best)))
        rules = []
        for rule in rt.get("rules", []):
            codes, labels = bins_of[rule["stratum"]]
            fb = rule.get("fallback", baseline)
            choose = rule["choose"]
            picked = [choose.get(labels[c], fb) if c >= 0 else fb for c in codes]
            vals = np.array([nll[s, col[p]] for s, p in zip(rows, picked)])
            ok = np.isfinite(vals)
            chosen = {}
            for p, o in zip(picked, ok):
                if o:
                    chosen[p] = chosen.get(p, 0) + 1
            rules.append(dict(name=rule["name"], nll_mean=float(np.mean(vals[ok])), chosen=chosen,
                              **delta_stats(b_all[rows][ok] - vals[ok])))
        out["routing"] = dict(n=int(len(rr)), ranking=ranking, oracle=oracle, rules=rules)

    # Gating.
    g = spec.get("gating")
    if g:
        curves = []
        for c in g["conditions"]:
            sel = rows[fin[rows, col[c]]]
            b, v = b_all[sel], nll[sel, col[c]]
            pts = []
            thr = [(t, None) for t in g.get("thresholds", [])] + \
                  [(float(np.percentile(b, p)), p) for p in g.get("percentiles", [])]
            for t, p in thr:
                on = b >= t
                pts.append(dict(threshold=float(t), percentile=p, share_primed=float(np.mean(on)),
                                **delta_stats(np.where(on, b - v, 0.0))))
            curves.append(dict(condition=c, n=int(len(sel)), points=pts))
        out["gating"] = curves

    # PMI.
    if "pmi" in spec:
        ref = spec["pmi"]["reference"]
        pmi = []
        for c in ids:
            if c == ref:
                continue
            mask = done & fin[:, col[c]] & fin[:, col[ref]]
            x = nll[mask, col[c]] - nll[mask, col[ref]]
            pmi.append(dict(condition=c, n=int(mask.sum()), pmi_mean=float(np.mean(x)), pmi_sd=float(np.std(x, ddof=1)),
                            d=study_d(-x)))
        out["pmi"] = pmi
    return out


def clean(v):
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, (np.floating,)):
        return clean(float(v))
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


def main():
    rng = np.random.default_rng(SEED)
    STUDY_INTENT = {"name": "intent_explicit", "variable": "intent", "other": "other",
                    "rules": [{"label": l, "contains": c} for l, c in DEFAULT_INTENT[:3]]}
    specs = {
        "study_like": {
            "primary": {"comparisons": [["A1", "C2"], ["A1", "B1"], ["A1", "C4"], ["C1", "C2"], ["A1", "E1"]],
                        "correction": "bonferroni", "alpha": 0.05},
            "strata": [
                {"name": "hardness", "quantiles": 5},
                {"name": "answer_length", "variable": "answer_tokens", "bins": [0, 5, 16, 1e9],
                 "labels": ["< 5", "5-15", "> 15"]},
                {"name": "passage_length", "variable": "passage_words", "bins": [0, 80, 201]},
                {"name": "intent", "variable": "intent"},
                STUDY_INTENT,
                {"name": "similarity", "variable": "similarity", "quantiles": 3},
                {"name": "query_words", "variable": "query_words", "bins": [0, 2, 4, 100], "right": True},
            ],
            "routing": {"max_k": 5, "rules": [
                {"name": "by_intent", "stratum": "intent",
                 "choose": {"definitional": "C4", "procedural": "B1", "factual": "C2", "medical": "B2"}},
                {"name": "by_hardness", "stratum": "hardness", "fallback": "A1",
                 "choose": {"Q4": "B2", "Q5": "C4"}}]},
            "gating": {"conditions": ["C2", "B1"], "thresholds": [0, 0.3, 0.5, 0.8, 1.0, 1.5, 2.5],
                       "percentiles": [25, 50, 90]},
            "pmi": {"reference": "A2"},
            "bootstrap": {"resamples": 300, "seed": 7, "confidence": 0.95},
            "exclusions": {"min_answer_tokens": 3},
        },
        "grid_holm": {
            "primary": {"comparisons": [["A1", "C2"], ["A1", "B2"], ["A1", "A3"], ["A1", "C1"], ["B1", "B4"]],
                        "correction": "holm", "alpha": 0.05},
            "strata": [{"name": "hardness", "quantiles": 4},
                       {"name": "b1", "variable": "nll.B1", "bins": [0.0, 1.5, 2.0, 3.0], "right": True}],
            "routing": {"max_k": 0, "candidates": ["B1", "B2", "C2", "C4", "D1"]},
            "gating": {"conditions": ["C4"], "percentiles": [0, 10, 50, 100]},
            "bootstrap": {"resamples": 200, "seed": 123456789, "confidence": 0.9},
            "exclusions": {"any_condition_nan": True},
        },
    }
    cases = {"study_like": make_case(rng, 320), "grid_holm": make_case(rng, 90, grid=True)}
    out = {"generator": "tools/gen_analysis_golden.py", "seed": SEED,
           "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                        "pandas": pd.__version__},
           "cases": {}}
    for name, case in cases.items():
        spec = specs[name]
        out["cases"][name] = clean({
            "input": {"ids": case["ids"], "nll": case["nll"].tolist(), "done": case["done"].tolist(),
                      "answer_tokens": case["answer_tokens"].tolist(), "passage_words": case["passage_words"].tolist(),
                      "query": case["query"], "similarity": case["similarity"].tolist()},
            "report_yaml": json.dumps(spec),
            "expected": analyze(case, spec),
        })
    with open(OUT, "w") as f:
        json.dump(out, f, indent=0, allow_nan=False)
        f.write("\n")
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
