"""A small labelled corpus of ops log messages for the bundled text classifier (no download).

Four categories an on-call engineer routes differently. Written for fleetops; the classifier
(TF-IDF + logistic regression, :mod:`fleetops.models.zoo`) is trained on it reproducibly.
"""

from __future__ import annotations

CATEGORIES = ("disk", "network", "auth", "service")

MESSAGES: dict[str, list[str]] = {
    "disk": [
        "no space left on device while writing to /var/log",
        "filesystem /data is 97 percent full",
        "disk quota exceeded for user backup",
        "inode table full on /var",
        "write error on device sda1 sector 48213",
        "smart reports reallocated sectors on disk sdb",
        "ext4 filesystem error detected on sda2 remounting read only",
        "volume group vg0 has no free extents",
        "backup failed because the target disk is full",
        "tmpfs /run is full",
        "raid array md0 is degraded one disk missing",
        "io errors reading block device nvme0n1",
        "partition /home ran out of space",
        "log rotation failed disk full",
        "mysql cannot write temporary file no space left",
        "swap partition is almost full",
    ],
    "network": [
        "connection timed out to 10.0.0.12 port 443",
        "no route to host gateway 192.168.1.1",
        "dns lookup failed for api.example.internal",
        "packet loss of 40 percent on eth0",
        "interface eth1 link down",
        "tcp connection reset by peer during upload",
        "name resolution temporarily failing",
        "network unreachable when contacting the platform server",
        "high latency to upstream router 250 ms",
        "arp table overflow on the gateway",
        "mtu mismatch causes fragmented packets",
        "dhcp lease could not be renewed",
        "firewall dropped inbound packets on port 22",
        "socket connect refused by remote host",
        "wifi signal lost on wlan0",
        "bgp session to peer went down",
    ],
    "auth": [
        "failed password for root from 203.0.113.5",
        "authentication failure for user student",
        "invalid user admin tried to log in over ssh",
        "account locked after too many failed logins",
        "sudo permission denied for user guest",
        "ssh public key rejected for user deploy",
        "password expired for user leaver",
        "pam authentication error on console login",
        "access denied for user app to database shop",
        "certificate verification failed for client login",
        "unauthorized api token used by gateway",
        "login refused user is not in the allowed group",
        "brute force attempt blocked from 198.51.100.7",
        "kerberos ticket expired for service account",
        "two factor code rejected for operator",
        "ftp login incorrect for user ftpuser",
    ],
    "service": [
        "nginx failed to start configuration test failed",
        "vsftpd service entered failed state",
        "mariadb restarted after crash",
        "systemd unit fleetops-edge exited with status 1",
        "process killed by the out of memory killer",
        "service did not become ready within 60 seconds",
        "segmentation fault in worker process",
        "cron job backup exited with code 2",
        "application health check returned 503",
        "container restarted too many times start limit hit",
        "daemon reload required unit file changed",
        "inference app crashed while loading the model",
        "web server returned internal server error",
        "queue worker stopped responding",
        "watchdog timeout for service sensor reader",
        "timer unit failed to trigger the job",
    ],
}

# Held out for the golden inputs and never trained on.
HELD_OUT: list[tuple[str, str]] = [
    ("disk", "the root filesystem is full no space left"),
    ("network", "connection to the server timed out no route"),
    ("auth", "failed password for invalid user from remote host"),
    ("service", "the service failed and was restarted by systemd"),
]
