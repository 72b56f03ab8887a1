"""Every quality measure of the model zoo as a plain function (see issue 3's table).

Images are ``(B, 1, 28, 28)`` floats in [0, 1]; codes are ``(B, d)``; returned scalars are Python floats.
"""
from __future__ import annotations

import numpy as np
import torch


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def few_label_accuracy(train_codes, train_labels, test_codes, test_labels, n_labels: int = 100,
                       draws: int = 5, seed: int = 0, max_iter: int = 1000) -> tuple[float, float]:
    """Test accuracy of a logistic regression fitted on ``n_labels`` labelled codes (``n_labels // 10`` per
    class), mean and standard deviation over ``draws`` random labelled subsets.

    train_codes ``(N, d)``, train_labels ``(N,)``, test_codes ``(M, d)``, test_labels ``(M,)``; arrays or
    tensors. Codes are standardised with the mean and std of ALL ``train_codes`` (unlabelled statistics
    are fair game in the few-label setting; 100 samples alone give wild scales to rarely-active units).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from .data import balanced_subset

    xtr, ytr = _np(train_codes).reshape(len(train_codes), -1), _np(train_labels).astype(np.int64)
    xte, yte = _np(test_codes).reshape(len(test_codes), -1), _np(test_labels).astype(np.int64)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise ValueError(f"codes and labels differ in length: train {len(xtr)} vs {len(ytr)}, test {len(xte)} vs {len(yte)}")
    n_classes = len(np.unique(ytr))
    if n_labels < n_classes or n_labels > len(ytr):
        raise ValueError(f"n_labels must be between {n_classes} (one per class) and {len(ytr)}, got {n_labels}")
    scaler = StandardScaler().fit(xtr)
    xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    accs = []
    for d in range(draws):
        idx = balanced_subset(torch.from_numpy(ytr), n_labels, seed=seed + d).numpy()
        clf = LogisticRegression(max_iter=max_iter).fit(xtr[idx], ytr[idx])
        accs.append(float((clf.predict(xte) == yte).mean()))
    return float(np.mean(accs)), float(np.std(accs))
