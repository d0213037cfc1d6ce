"""Where a whole command's CPU goes, across every Python process it starts (see sitecustomize.py)."""
