"""The local lab fleet: systemd-nspawn containers (systemd as PID 1, own IP, own sshd).

`image` builds and caches the golden Debian root filesystem, `network` owns the bridge and NAT,
`launcher` keeps one container running (and restarts it on reboot), `fleet` brings a lab up and
down and writes the normal pyinfra inventory that every other verb uses.
"""
