"""Sweep views: the live dashboard (`sweepq dashboard`), the static report (`sweepq report`) and Jupyter's show()."""
