"""Group data for FTP servers (keys and defaults: roles/ftp_spec.py)."""

ftp = {
    "users": [
        # An FTP-only account (password "fleetops-ftp"), chrooted to /srv/ftp/ftpuser.
        {
            "name": "ftpuser",
            "password_hash": "$6$fleetopsftpsalt$iSzg/pI.BqlXBj5JuX6vk56UQLJiTTM/EsrnZpov0V45ySA19LoR5CG08romTN5aJbzXX9wrU2RjfStCMSB9L/",
        },
    ],
    "pasv_min_port": 40000,
    "pasv_max_port": 40050,
    "tls": {"enabled": True, "required": False},
}
