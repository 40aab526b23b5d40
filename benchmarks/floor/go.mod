module scheduler-extender/benchmarks/floor

go 1.22
