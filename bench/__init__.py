"""The "Prove it" benchmark: throughput, cost and footprint figures of parcelflow in one run."""
