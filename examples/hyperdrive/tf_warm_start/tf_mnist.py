"""Azure's tf_mnist.py (hyperparameter-tune-and-warm-start-with-tensorflow), ported: imports and data loading.

The TensorFlow two-layer network becomes scikit-learn's MLPClassifier of the same shape trained with SGD, on the
8x8 digits instead of MNIST (no download). Every HyperDrive call is kept: the run context, `training_acc` and
`validation_acc` logged every epoch, checkpoints every second epoch in ./outputs, `--resume-from` restoring the
latest checkpoint of a resumed child run, `final_acc` and the model in ./outputs/model.
"""

from __future__ import annotations

import argparse
import glob
import os
import pickle
import re
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from orchestrator.hyperdrive import Run  # was: from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, dest="batch_size", default=128, help="mini batch size for training")
parser.add_argument("--first-layer-neurons", type=int, dest="n_hidden_1", default=128,
                    help="# of neurons in the first layer")
parser.add_argument("--second-layer-neurons", type=int, dest="n_hidden_2", default=128,
                    help="# of neurons in the second layer")
parser.add_argument("--learning-rate", type=float, dest="learning_rate", default=0.01, help="learning rate")
parser.add_argument("--resume-from", type=str, default=None,
                    help="location of the model or checkpoint files from where to resume the training")
args = parser.parse_args()

previous_model_location = args.resume_from

# load train and test set into numpy arrays (was: MNIST from the mounted data folder)
x, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(x / np.float32(16.0), y, test_size=0.25, random_state=0)
print(X_train.shape, y_train.shape, X_test.shape, y_test.shape, sep="\n")

training_set_size = X_train.shape[0]
n_h1 = args.n_hidden_1
n_h2 = args.n_hidden_2
learning_rate = args.learning_rate
n_epochs = int(os.environ.get("N_EPOCHS", "20"))
batch_size = args.batch_size

# Build neural network model (stochastic gradient descent)
neural_net = MLPClassifier(hidden_layer_sizes=(n_h1, n_h2), solver="sgd", learning_rate_init=learning_rate,
                           batch_size=batch_size, random_state=0)
classes = np.unique(y_train)

# start an Azure ML run
run = Run.get_context()

start_epoch = 0
if previous_model_location:
    # Restore the model from the latest checkpoint.
    checkpoint_file_path = max(glob.glob(os.path.join(previous_model_location, "ckpt-*.pkl")),
                               key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
    with open(checkpoint_file_path, "rb") as f:
        neural_net = pickle.load(f)
    checkpoint_filename = os.path.basename(checkpoint_file_path)
    num_found = re.search(r"\d+", checkpoint_filename)
    if num_found:
        start_epoch = int(num_found.group(0))
        print(f"Resuming from epoch {start_epoch}")

start_time = time.perf_counter()
acc_val = 0.0
for epoch in range(start_epoch, n_epochs):
    neural_net.partial_fit(X_train, y_train, classes=classes)
    acc_train = neural_net.score(X_train, y_train)
    acc_val = neural_net.score(X_test, y_test)

    # log accuracies
    run.log("training_acc", float(acc_train))
    run.log("validation_acc", float(acc_val))
    print(epoch, "-- Training accuracy:", acc_train, "\b Validation accuracy:", acc_val)

    # Save checkpoints in the "./outputs" folder so that they are automatically uploaded into run history.
    checkpoint_dir = "./outputs/"
    if epoch % 2 == 0:
        os.makedirs(checkpoint_dir, exist_ok=True)
        # tf.train.Saver writes a temporary file and renames it, so a run canceled mid-save never leaves a torn
        # checkpoint for a resumed run to load; the pickle port keeps that.
        partial = os.path.join(checkpoint_dir, f".ckpt-{epoch + 1}.pkl.tmp")
        with open(partial, "wb") as f:
            pickle.dump(neural_net, f)
        os.replace(partial, os.path.join(checkpoint_dir, f"ckpt-{epoch + 1}.pkl"))

run.log("final_acc", float(acc_val))
os.makedirs("./outputs/model", exist_ok=True)

# files saved in the "./outputs" folder are automatically uploaded into run history
with open("./outputs/model/model.pkl", "wb") as f:
    pickle.dump(neural_net, f)

stop_time = time.perf_counter()
training_time = (stop_time - start_time) * 1000
print(f"Total time in milliseconds for training: {training_time}")
