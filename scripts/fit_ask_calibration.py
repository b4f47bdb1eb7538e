"""Fit Ask's confidence (logistic regression over retrieval features) and its refusal threshold on
the DEV split only (tests/data/ask_dev.yaml), and write src/iliopsoas/knowledge/data/ask_calibration.json.

    .venv/bin/python scripts/fit_ask_calibration.py

Every dev question is answered with the threshold off; an answer is a positive when the judge
accepts it (an answerable question answered right), a negative otherwise (a wrong answer, or any
answer to an unanswerable question). Safety questions are left out: rules, not confidence, handle
them. The threshold maximises right answers minus three times the answers given to unanswerable
questions (a wrong answer and a refusal fail an answerable question alike).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import ask_judge  # noqa: E402
from iliopsoas.knowledge.ask import Asker, load_calibration  # noqa: E402
from iliopsoas.knowledge.store import load_atlas  # noqa: E402

OUT = ROOT / "src" / "iliopsoas" / "knowledge" / "data" / "ask_calibration.json"


def rows(asker: Asker) -> tuple[list[dict[str, float]], list[int], list[str]]:
    feats, labels, kinds = [], [], []
    for item in ask_judge.load("dev"):
        if item["kind"] == "safety":
            continue
        a = asker.answer(item["q"], threshold=-1.0)
        if a.kind != "answer" or not a.answered:
            continue  # refused by a rule (personal decision, off topic): confidence plays no part
        q, rec = asker.read(item["q"])
        scored = asker.assess(q, rec)
        assert scored is not None
        f = scored[1]
        feats.append(f)
        labels.append(int(ask_judge.judge(item, a) is None and item["kind"] == "answer"))
        kinds.append(item["kind"])
    return feats, labels, kinds


def fit(x: np.ndarray, y: np.ndarray, l2: float = 2.0, iters: int = 50) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression; column 0 of ``x`` is the bias."""
    w = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[0] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + reg * w
        hess = (x.T * (p * (1 - p))) @ x + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main() -> None:
    asker = Asker(load_atlas(), calibration=load_calibration())
    feats, labels, kinds = rows(asker)
    names = list(feats[0])
    x = np.array([[1.0, *(f[n] for n in names)] for f in feats])
    y = np.array(labels, dtype=float)
    mean, std = x[:, 1:].mean(axis=0), x[:, 1:].std(axis=0) + 1e-9
    xs = x.copy()
    xs[:, 1:] = (x[:, 1:] - mean) / std
    w = fit(xs, y)
    # back to raw feature units
    weights = w[1:] / std
    bias = w[0] - float((w[1:] * mean / std).sum())
    p = 1.0 / (1.0 + np.exp(-(bias + x[:, 1:] @ weights)))
    unanswerable = np.array([k == "refusal" for k in kinds])
    best = (-1e9, 0.5)
    for t in np.arange(0.05, 0.95, 0.01):
        answered = p >= t
        # a wrong answer and a refusal fail an answerable question alike; answering an unanswerable
        # one costs three times as much (the issue asks for 100% refused)
        score = (answered & (y == 1)).sum() - 3 * (answered & unanswerable).sum()
        if score > best[0]:
            best = (float(score), round(float(t), 2))
    doc = {
        "note": "fitted by scripts/fit_ask_calibration.py on tests/data/ask_dev.yaml only",
        "features": names,
        "weights": [round(float(v), 5) for v in weights],
        "bias": round(float(bias), 5),
        "threshold": best[1],
        "dev_rows": len(y),
        "dev_positive": int(y.sum()),
    }
    OUT.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
