"""Group data for web servers (keys and defaults: roles/web_spec.py)."""

web = {
    "sites": [
        # The lab's main site: static, HTTPS with a self-signed certificate, per-user pages.
        {
            "name": "lab",
            "default_server": True,
            "index_html": "<h1>fleetops lab</h1>\n",
            "tls": {},
            "userdir": True,
            "userdir_users": ["student"],
        },
        # A backend on a private port, and a reverse proxy in front of it.
        {"name": "backend", "listen": 8080, "index_html": "backend ok\n"},
        {"name": "api", "listen": 8000, "proxy_pass": "http://127.0.0.1:8080"},
    ],
}
