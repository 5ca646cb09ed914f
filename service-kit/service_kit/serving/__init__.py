"""Serving: the gunicorn worker all three parts run, and the sum of its processes' metrics."""
