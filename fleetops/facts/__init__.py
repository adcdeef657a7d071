"""pyinfra facts fleetops adds: a command plus a pure ``process`` parser, unit-tested offline."""
