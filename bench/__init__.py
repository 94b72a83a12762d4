"""cloudlet benchmarks: see bench/README.md. Kept import-light: the load generator imports it."""
