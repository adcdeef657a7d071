"""pyinfra operations fleetops adds, in pyinfra's style: validate, read facts, yield only what
is needed, ``host.noop`` otherwise."""
