"""Azure's train_iris.py (train-hyperparameter-tune-deploy-with-sklearn), ported by changing its import.

An SVM on the Iris data: logs the kernel (a string) and the penalty, then the accuracy, and saves the model in
./outputs, which HyperDrive keeps for each child run (as sweepq does, in the run's own folder).
"""

from __future__ import annotations

import argparse
import os

import joblib  # type: ignore[import-untyped]
import numpy as np
from sklearn import datasets
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from orchestrator.hyperdrive import Run  # was: from azureml.core.run import Run

# get the run context
run = Run.get_context()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", type=str, default="linear", help="Kernel type to be used in the algorithm")
    parser.add_argument("--penalty", type=float, default=1.0, help="Penalty parameter of the error term")
    args = parser.parse_args()
    run.log("Kernel type", str(args.kernel))  # np.str in the original: removed from numpy since
    run.log("Penalty", float(args.penalty))

    # loading the iris dataset
    iris = datasets.load_iris()
    x = iris.data
    y = iris.target
    x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0)

    # training a linear SVM classifier
    svm_model_linear = SVC(kernel=args.kernel, C=args.penalty).fit(x_train, y_train)
    svm_predictions = svm_model_linear.predict(x_test)

    # model accuracy for X_test
    accuracy = svm_model_linear.score(x_test, y_test)
    print(f"Accuracy of SVM classifier on test set: {accuracy:.2f}")
    run.log("Accuracy", np.float64(accuracy))
    # creating a confusion matrix
    cm = confusion_matrix(y_test, svm_predictions)
    print(cm)

    # files saved in the "outputs" folder are automatically uploaded into run history
    os.makedirs("outputs", exist_ok=True)
    joblib.dump(svm_model_linear, "outputs/model.joblib")


if __name__ == "__main__":
    main()
