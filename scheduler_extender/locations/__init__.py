"""Where Alluxio blocks are cached: one module per source behind the interface in `base`."""
