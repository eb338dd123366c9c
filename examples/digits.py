"""A real small model: SGD logistic regression (or a hinge-loss linear SVM) on scikit-learn's digits data set.

Each epoch is one pass over the training split in mini-batches; the validation accuracy is reported after every
epoch, so early-termination policies see a learning curve. Runs in about a second on one core.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from workers import report


@functools.cache
def _data(seed: int = 0) -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_val), y_train, y_val


def train(
    learning_rate: float = 0.01,
    alpha: float = 1e-4,
    batch_size: int = 32,
    epochs: int = 10,
    penalty: str = "l2",
    hidden: int = 1,
    seed: int = 0,
) -> float:
    """Train and report accuracy each epoch; returns the final validation accuracy.

    `hidden` only scales the model's loss between log-loss (1) and hinge (>1), so that the HyperDrive-style
    configs can sweep an integer choice; it is not a hidden layer.
    """
    import numpy as np
    from sklearn.linear_model import SGDClassifier

    x_train, x_val, y_train, y_val = _data()
    loss = "log_loss" if int(hidden) <= 1 else "hinge"
    model = SGDClassifier(
        loss=loss, penalty=penalty, alpha=alpha, learning_rate="constant", eta0=learning_rate, random_state=seed
    )
    classes = np.unique(y_train)
    rng = np.random.default_rng(seed)
    batch = max(int(batch_size), 1)
    accuracy = math.nan
    for epoch in range(1, int(epochs) + 1):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            model.partial_fit(x_train[idx], y_train[idx], classes=classes)
        accuracy = float(model.score(x_val, y_val))
        report(accuracy=accuracy, epoch=epoch)
    return accuracy
