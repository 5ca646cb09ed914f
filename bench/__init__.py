"""`make bench`: the system measured against its targets, as ratios of pairs run side by side."""
