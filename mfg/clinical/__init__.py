"""Clinical use: trial and patients, orders, issue, bedside verification, infusion, adverse
events and outcomes, the trial report."""
