"""Azure's pytorch_train.py (train-hyperparameter-tune-deploy-with-pytorch), ported: imports and data loading.

The ResNet fine-tuned on bird photos becomes scikit-learn's MLPClassifier trained with SGD and momentum on the
8x8 digits (no download). Every HyperDrive call is kept: `lr` and `momentum` logged once, `best_val_acc` every
epoch, the model saved as ./outputs/model.pt.
"""

from __future__ import annotations

import argparse
import os
import pickle

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from orchestrator.hyperdrive import Run  # was: from azureml.core.run import Run

# get the Azure ML run object
run = Run.get_context()


def fine_tune_model(num_epochs: int, learning_rate: float, momentum: float) -> MLPClassifier:
    """Train with SGD and momentum, logging the best validation accuracy every epoch."""
    x, y = load_digits(return_X_y=True)  # was: the hymenoptera/birds image folders
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    model = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=learning_rate, momentum=momentum,
                          batch_size=64, random_state=0)
    classes = np.unique(y_train)
    best_acc = 0.0
    for epoch in range(num_epochs):
        print(f"Epoch {epoch}/{num_epochs - 1}")
        model.partial_fit(x_train, y_train, classes=classes)
        epoch_acc = model.score(x_val, y_val)
        best_acc = max(best_acc, epoch_acc)
        # log the best val accuracy to AML run
        run.log("best_val_acc", float(best_acc))
    print(f"Best val Acc: {best_acc:4f}")
    return model


def main() -> None:
    print("Torch version: sklearn stand-in")
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_epochs", type=int, default=25, help="number of epochs to train")
    parser.add_argument("--output_dir", type=str, help="output directory")
    parser.add_argument("--learning_rate", type=float, default=0.001, help="learning rate")
    parser.add_argument("--momentum", type=float, default=0.9, help="momentum")
    args = parser.parse_args()

    # log the hyperparameter metrics to the AML run
    run.log("lr", float(args.learning_rate))
    run.log("momentum", float(args.momentum))

    model = fine_tune_model(args.num_epochs, args.learning_rate, args.momentum)
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "model.pt"), "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main()
