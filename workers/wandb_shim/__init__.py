"""A drop-in `wandb` module for command trials from W&B sweep configs (put first on their PYTHONPATH)."""
