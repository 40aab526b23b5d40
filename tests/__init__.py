"""The test suites of scheduler_extender (a package, so that tests and benchmarks import tests.support by name)."""
