"""k-fold cross-validation as a trial: each fold's validation accuracy is one report (step = fold), and the
mean over the folds is the final metric. Early-termination policies then compare runs fold by fold.
"""

from __future__ import annotations

import statistics

from workers import report


def train(
    learning_rate: float = 0.01, alpha: float = 1e-4, folds: int = 5, epochs: int = 5, seed: int = 0
) -> dict[str, float]:
    """Returns {"accuracy": mean over folds, "accuracy_std": their standard deviation}."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    scores = []
    splits = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=seed).split(x, y)
    for fold, (train_idx, val_idx) in enumerate(splits, start=1):
        model = make_pipeline(
            StandardScaler(),
            SGDClassifier(loss="log_loss", alpha=alpha, learning_rate="constant", eta0=learning_rate,
                          max_iter=int(epochs), tol=None, random_state=seed),
        )
        model.fit(x[train_idx], y[train_idx])
        score = float(model.score(x[val_idx], y[val_idx]))
        scores.append(score)
        report(fold_accuracy=score, step=fold)
    return {"accuracy": statistics.fmean(scores), "accuracy_std": statistics.pstdev(scores)}
