"""The check library (testinfra-style resources with pass/warn/fail results).

Checks arrive with the health-check issue; the baseline's behaviour is verified today by the
lab end-to-end tests in tests/e2e.
"""
