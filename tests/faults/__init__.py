"""Fault-injection tests: real Redis and real sweepq processes, killed and cut off on purpose."""
