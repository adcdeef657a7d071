"""The engine behind ``fleetops check``: plan, sweep the fleet, write outputs and history.

The standard library must be patched by gevent before ``ssl`` is first used (the CLI entry does
it once, see ``fleetops.cli``): loading a pyinfra inventory imports gevent, and patching *after*
``ssl`` is in use breaks TLS subtly (ftplib then skips the TLS shutdown of FTPS data connections
and vsftpd answers "426 Failure reading network stream").
"""
