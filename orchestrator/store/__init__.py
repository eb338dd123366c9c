"""Redis adapters: key names (keys), JSON codec, the ledger of sweeps and trials, and metric streams."""
