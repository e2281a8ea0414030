"""Pure metric maths on numpy arrays: no I/O, no registries."""
