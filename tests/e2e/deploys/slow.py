"""Three plain pyinfra operations with a pause in the middle, to stop a host mid-run."""

from pyinfra.operations import server

server.shell(name="Before the pause", commands=["true"])
server.shell(name="Pause", commands=["sleep 6"])
server.shell(name="After the pause", commands=["true"])
