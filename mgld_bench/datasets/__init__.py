"""What goes in: dataset adapters that yield :class:`~mgld_bench.frames.Clip` objects."""
