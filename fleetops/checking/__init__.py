"""The engine behind ``fleetops check``: plan, sweep the fleet, write outputs and history.

Importing this package monkey-patches the standard library with gevent first. Loading a pyinfra
inventory patches it anyway (``pyinfra_cli`` does on import), and patching *after* ``ssl`` is in
use breaks TLS subtly: ftplib then skips the TLS shutdown of FTPS data connections and vsftpd
answers "426 Failure reading network stream". So the CLI imports this package before any check.
"""

from gevent import monkey

monkey.patch_all()
