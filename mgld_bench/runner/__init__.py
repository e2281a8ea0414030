"""The runner: joins datasets, methods, metrics and the store, one (method, dataset, clip) job at a time."""
