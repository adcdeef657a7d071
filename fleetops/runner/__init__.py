"""Run pyinfra deploy files in-process through pyinfra's Python API and record the outcome.

SSH to many hosts runs concurrently on gevent: the CLI entry (``fleetops.cli``) patches the
standard library once, before any verb is imported, as pyinfra's own CLI does. Code that uses
this package without the CLI (tests, benchmarks) patches first itself.
"""
