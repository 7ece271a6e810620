"""Benchmarks of what the service adds to the user's own work, as ratios to a baseline."""
