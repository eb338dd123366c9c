"""wandb.integration: the Keras integration (wandb.integration.keras)."""
