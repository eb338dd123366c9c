"""W&B's notebook flow on sweepq, with only the import changed: wandb.sweep(config) then wandb.agent(function=...).

`train` is defined here (it could be a notebook cell): the agent runs each trial in this process, so nothing has to
be importable by remote workers. Run it with `python examples/wandb_notebook.py [count]`; without SWEEPQ_REDIS_URL
and no Redis on the default port, a private redis-server is started for the run.
"""

from __future__ import annotations

import sys

import orchestrator.wandb as wandb

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
        "layers": {"values": [1, 2, 3]},
    },
}


def train() -> None:
    """A W&B training function: init, read the config, log each epoch, set the summary."""
    with wandb.init(project="notebook-demo", config={"epochs": 5}) as run:
        cfg = wandb.config
        loss = 1.0
        for epoch in range(cfg.epochs):
            loss = loss * (1 - cfg.lr * 5) + 0.01 * cfg.layers
            wandb.log({"loss": loss, "epoch": epoch})
        run.summary["loss"] = loss  # what W&B ranks the run by (here the last value anyway)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    sweep_id = wandb.sweep(CONFIG, project="notebook-demo")
    wandb.agent(sweep_id, function=train, count=count)
    print(sweep_id)
