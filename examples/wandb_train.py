"""A W&B training script, unchanged: `import wandb`, `wandb.init`, `wandb.config`, `wandb.log`.

Run by a sweep from a W&B sweep config, it imports sweepq's drop-in `wandb`, so its logs report to sweepq.
"""

import wandb  # type: ignore[import-not-found]  # sweepq's drop-in, put on the path by the worker

run = wandb.init(project="quadratic", config={"steps": 6})
cfg = wandb.config
base = (cfg.x - 1) ** 2 + (cfg.y + 2) ** 2 + 0.1 * cfg.layers
speed = (1.5 if cfg.optimizer["kind"] == "adam" else 1.0) * cfg.optimizer["lr"] * 100
for step in range(1, cfg.steps + 1):
    wandb.log({"loss": base / (1 + speed * step), "epoch": step})
wandb.finish()
