"""sweepq workers: the Celery side that runs trials (built by the execution issue).

Nothing here connects or creates an app at import time.
"""
