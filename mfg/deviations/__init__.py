"""Deviations: a record that something departed from procedure or specification, its
investigation and its QA closure. Below manufacturing, so that a step that departs opens one."""
