"""Example trials used by configs/: real (small) models, so a sweep on a laptop finishes in a minute."""
