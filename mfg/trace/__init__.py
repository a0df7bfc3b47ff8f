"""Chain of identity: trace any code up to its donors and down to its patients."""
