"""Reference solution of T4: the app started (ready once its model is loaded)."""

from pyinfra.operations import server

server.shell(
    name="Start and wait for /ready",
    commands=[
        "systemctl restart fleetops-edge.service",
        'for i in $(seq 60); do systemctl is-active -q fleetops-edge && python3 -c "import json,urllib.request;'
        "c=json.load(open('/etc/fleetops-edge/config.json'));"
        "urllib.request.urlopen('http://127.0.0.1:%d/ready' % c['listen_port'], timeout=2)\" 2>/dev/null && exit 0; sleep 1; done; exit 1",
    ],
)
