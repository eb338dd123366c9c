"""The HyperDrive document's PyTorch-style training script, ported by changing one import.

It parses --num_epochs --output_dir --learning_rate --momentum (HyperDrive passes `--name value`), trains a small
scikit-learn MLP on the digits data with SGD and momentum (standing in for the PyTorch fine-tuning), logs the
validation accuracy every epoch with Run.get_context().log, and saves the model in --output_dir.
"""

from __future__ import annotations

import argparse
import os
import pickle

from orchestrator.hyperdrive import Run  # was: from azureml.core.run import Run


def fine_tune_model(num_epochs: int, learning_rate: float, momentum: float, run_logger: Run) -> object:
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    model = MLPClassifier(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=learning_rate, momentum=momentum,
                          batch_size=64, random_state=0)
    classes = np.unique(y_train)
    for _ in range(num_epochs):
        model.partial_fit(x_train, y_train, classes=classes)
        val_accuracy = model.score(x_val, y_val)
        run_logger.log("accuracy", float(val_accuracy))
    return model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_epochs", type=int, default=25, help="number of epochs to train")
    parser.add_argument("--output_dir", type=str, help="output directory")
    parser.add_argument("--learning_rate", type=float, default=0.001, help="learning rate")
    parser.add_argument("--momentum", type=float, default=0.9, help="momentum")
    args = parser.parse_args()

    run_logger = Run.get_context()
    model = fine_tune_model(args.num_epochs, args.learning_rate, args.momentum, run_logger)
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "model.pkl"), "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main()
