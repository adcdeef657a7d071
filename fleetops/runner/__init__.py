"""Run pyinfra deploy files in-process through pyinfra's Python API and record the outcome.

Importing this package monkey-patches the standard library with gevent, as pyinfra's own CLI
does, so SSH to many hosts runs concurrently; import it before anything opens sockets.
"""

from gevent import monkey

monkey.patch_all()
