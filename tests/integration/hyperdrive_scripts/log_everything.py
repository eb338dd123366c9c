"""A HyperDrive-style training script for the tests: logs every kind of value and writes ./outputs/model.pkl.

With --resume-from it reads the checkpoint its earlier run left in ./outputs and logs what it found.
"""

from __future__ import annotations

import argparse
import base64
import os
import pickle

from orchestrator.hyperdrive import Run

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

parser = argparse.ArgumentParser()
parser.add_argument("--seed-value", type=float, default=0.0)
parser.add_argument("--resume-from", type=str, default=None)
args = parser.parse_args()

run = Run.get_context()
if args.resume_from:
    with open(os.path.join(args.resume_from, "checkpoint.pkl"), "rb") as f:
        checkpoint = pickle.load(f)
    run.log("checkpoint value", checkpoint["value"])
    run.log("resumed from", args.resume_from)

run.log("Kernel type", "rbf")  # a string: recorded, the trial does not fail
run.log("converged", True)  # a boolean: recorded
for epoch in range(3):
    run.log("accuracy", args.seed_value + epoch / 10)  # repeated: a list
run.log("Max iterations:", 100)  # a name with spaces and a colon
run.log_list("losses", [0.5, 0.25])
run.log_row("per class", label="a", recall=0.5)
run.log_row("per class", label="b", recall=0.75)
run.log_table("curve", {"x": [1, 2], "y": [0.1, 0.2]})
with open("chart.png", "wb") as f:
    f.write(PNG)
run.log_image("loss chart", path="chart.png")
run.tag("team", "vision")
run.set_tags({"candidate": None})
run.add_properties({"dataset": "digits-v1"})
with open("notes.txt", "w") as f:
    f.write(f"parent={run.parent.id} id={run.id} experiment={run.experiment.name}\n")
run.upload_file("uploads/notes.txt", "notes.txt")

os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as f:
    pickle.dump({"value": args.seed_value}, f)
with open("outputs/checkpoint.pkl", "wb") as f:
    pickle.dump({"value": args.seed_value}, f)
