"""An MLP on scikit-learn's digits, trained epoch by epoch from a checkpoint: the trial population-based training
(PBT) needs (configs/digits-pbt.yaml).

Each epoch is one `partial_fit` pass of SGD with momentum; after it the model and the epoch are pickled to
`checkpoint.pkl` in the trial's output directory (SWEEPQ_OUTPUT_DIR, written atomically) and the validation
accuracy is reported with `step=epoch`. A trial started with `resume_from` (a PBT member that copied a better
member's checkpoint) or retried after its worker was lost continues from the checkpoint's epoch with its own
learning rate and momentum: the learning rate that suits the first epochs (large) is not the one that suits the
last ones (small), which is what PBT's schedule finds.

`data` picks the task: "digits" (1,797 images; an MLP reaches ~97% whatever its learning-rate schedule, so it
shows PBT's mechanics) or "noisy" (scikit-learn's make_classification: 20,000 points of a 4-class problem with 10%
of the labels flipped, where SGD's noise at a fixed learning rate costs accuracy and a decaying schedule wins it
back; benchmarks/pbt.py uses it). Each is split 60/20/20 into train, validation (reported) and test (held out).
"""

from __future__ import annotations

import functools
import os
import pickle
import time
from pathlib import Path
from typing import Any

from workers import report

CHECKPOINT = "checkpoint.pkl"


def load(directory: str | Path | None) -> tuple[Any, int, float]:
    """The model, the last finished epoch and its accuracy in a checkpoint directory; (None, 0, NaN) if none."""
    path = None if directory is None else Path(directory) / CHECKPOINT
    if path is None or not path.is_file():
        return None, 0, float("nan")
    with path.open("rb") as f:
        state = pickle.load(f)  # our own checkpoint, written by save() below
    return state["model"], int(state["epoch"]), float(state.get("accuracy", "nan"))


def save(directory: Path, model: Any, epoch: int, accuracy: float) -> None:
    """Write the checkpoint atomically, so a copy taken while the trial runs is never half written."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{CHECKPOINT}.{os.getpid()}"
    with tmp.open("wb") as f:
        pickle.dump({"model": model, "epoch": epoch, "accuracy": accuracy}, f)
    os.replace(tmp, directory / CHECKPOINT)


def new_model(learning_rate: float, momentum: float, hidden: int, batch_size: int, seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(int(hidden),), solver="sgd", learning_rate_init=learning_rate, momentum=momentum,
        batch_size=int(batch_size), random_state=seed,
    )


def set_rates(model: Any, learning_rate: float, momentum: float) -> None:
    """Give a (resumed) model this member's learning rate and momentum: its SGD optimizer keeps its own copies."""
    model.learning_rate_init, model.momentum = learning_rate, momentum
    optimizer = getattr(model, "_optimizer", None)
    if optimizer is not None:
        optimizer.learning_rate, optimizer.momentum = learning_rate, momentum


@functools.cache
def splits(data: str = "digits") -> dict[str, tuple[Any, Any]]:
    """The task's train, validation and test splits (60/20/20, stratified, standardized on the train split)."""
    from sklearn.datasets import load_digits, make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if data == "digits":
        x, y = load_digits(return_X_y=True)
    elif data == "noisy":
        x, y = make_classification(
            n_samples=20_000, n_features=20, n_informative=10, n_redundant=5, n_classes=4, flip_y=0.1, random_state=0
        )
    else:
        raise ValueError(f"unknown data {data!r}: digits or noisy")
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.4, random_state=0, stratify=y)
    x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5, random_state=0, stratify=y_rest)
    scaler = StandardScaler().fit(x_train)
    return {"train": (scaler.transform(x_train), y_train), "val": (scaler.transform(x_val), y_val),
            "test": (scaler.transform(x_test), y_test)}


def fit_epoch(model: Any, data: str = "digits") -> float:
    """One SGD pass over the training split; returns the validation accuracy."""
    import numpy as np

    x, y = splits(data)["train"]
    model.partial_fit(x, y, classes=np.unique(y))
    return score(model, data, "val")


def score(model: Any, data: str = "digits", split: str = "test") -> float:
    """The model's accuracy on one split (the test split is never reported during training)."""
    x, y = splits(data)[split]
    return float(model.score(x, y))


def train(
    learning_rate: float = 0.05,
    momentum: float = 0.5,
    epochs: int = 20,
    hidden: int = 32,
    batch_size: int = 64,
    seed: int = 0,
    epoch_seconds: float = 0.0,
    data: str = "digits",
    resume_from: str | None = None,
) -> float:
    """Train from the checkpoint (resume_from's, else this trial's own), reporting accuracy every epoch; a
    checkpoint already at the last epoch (a donor that finished before it was copied) is returned as it is."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    out = Path(os.environ.get("SWEEPQ_OUTPUT_DIR", "."))
    model, start, accuracy = load(resume_from)
    if model is None:
        model, start, accuracy = load(out)
    if model is None:
        model = new_model(learning_rate, momentum, hidden, batch_size, seed)
    set_rates(model, learning_rate, momentum)
    for epoch in range(start + 1, int(epochs) + 1):
        accuracy = fit_epoch(model, data)
        save(out, model, epoch, accuracy)
        time.sleep(epoch_seconds)  # lets the integration tests act while members train
        report(accuracy=accuracy, learning_rate=learning_rate, step=epoch)
    return accuracy
