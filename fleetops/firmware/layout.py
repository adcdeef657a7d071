"""Where the firmware pieces live on a gateway: every path and unit name, defined once.

The firmware role installs this layout, ``fleetops firmware`` and the ``firmware`` check read it;
the gateway tool gets the same paths from the JSON config the role renders (it runs standalone).
"""

STATE = "/var/lib/fleetops-fw"
SLOTS = f"{STATE}/slots"
SLOT_NAMES = ("a", "b")
ENV_FILES = (f"{STATE}/uboot.env.0", f"{STATE}/uboot.env.1")
ENV_SIZE = 0x4000  # 16 KiB, as U-Boot's CONFIG_ENV_SIZE on small boards
HISTORY = f"{STATE}/history.jsonl"
INCOMING = f"{STATE}/incoming"
RUN = "/run/fleetops-fw"
ETC = "/etc/fleetops-fw"
CONFIG = f"{ETC}/config.json"
CA = f"{ETC}/ca.pem"
HEALTH_DIR = f"{ETC}/health.d"
FACTORY = "/usr/share/fleetops-fw/factory"
TOOL = "/usr/local/sbin/fleetops-fw"
FW_ENV_CONFIG = "/etc/fw_env.config"  # compiled into libubootenv and SWUpdate
SWUPDATE_CONFIG = "/etc/swupdate.cfg"
HWREVISION = "/etc/hwrevision"
VERSION_FILE = "etc/fw-version"  # inside a slot
SLOT_HEALTH = "usr/lib/fleetops-fw/health"  # inside a slot: the firmware's own health test

BOOT_UNIT = "fleetops-fw-boot.service"
AGENT_UNIT = "fleetops-fw-agent.service"
HEALTH_UNIT = "fleetops-fw-health.service"
DEADLINE_UNIT = "fleetops-fw-deadline"  # .service + .timer
# the package's own daemon would run `swupdate -v` without a key; fleetops runs one-shot installs
MASKED_UNITS = ("swupdate.service", "swupdate.socket", "swupdate-progress.service")


def copy_for(slot: str) -> str:
    """The sw-description selection that installs to ``slot`` (``copy1`` → a, ``copy2`` → b)."""
    return f"copy{SLOT_NAMES.index(slot) + 1}"


def other(slot: str) -> str:
    return SLOT_NAMES[1 - SLOT_NAMES.index(slot)]
