"""wandb.integration for `orchestrator.wandb`: the Keras integration."""
