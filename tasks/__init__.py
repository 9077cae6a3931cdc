"""The benchmark: task readers, embedders, heads, metrics and the run entry point."""
