"""Quality control: specifications, samples, results with verification, deviations."""
