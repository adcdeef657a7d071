"""FTP and web role specs and templates: validation and rendering, no hosts involved."""

import pytest
from pydantic import ValidationError

from fleetops.render import render
from fleetops.roles.ftp_spec import FtpData
from fleetops.roles.web_spec import WebData

HASH = "$6$fleetopsftpsalt$iSzg/pI.BqlXBj5JuX6vk56UQLJiTTM/EsrnZpov0V45ySA19LoR5CG08romTN5aJbzXX9wrU2RjfStCMSB9L/"


def ftp(**values):
    return FtpData.model_validate({"ftp": {"users": [{"name": "ftpuser", "password_hash": HASH}], **values}}).ftp


def test_vsftpd_config_defaults_are_safe():
    config = render("vsftpd/vsftpd.conf.j2", ftp=ftp(), cert_file="/c", key_file="/k")
    lines = set(config.splitlines())
    assert {
        "anonymous_enable=NO",
        "chroot_local_user=YES",
        "allow_writeable_chroot=NO",
        "userlist_enable=YES",
        "userlist_deny=NO",
        "pasv_min_port=40000",
        "pasv_max_port=40100",
        "ssl_enable=NO",
    } <= lines
    assert all("=" in line for line in lines if line and not line.startswith("#"))


def test_vsftpd_config_with_tls_and_options():
    spec = ftp(tls={"enabled": True}, pasv_address="10.0.0.5", extra_options={"ftpd_banner": "hi"})
    config = render("vsftpd/vsftpd.conf.j2", ftp=spec, cert_file="/c.pem", key_file="/k.key")
    assert "ssl_enable=YES" in config and "rsa_cert_file=/c.pem" in config
    assert "force_local_logins_ssl=YES" in config and "pasv_address=10.0.0.5" in config
    assert config.rstrip().endswith("ftpd_banner=hi")
    assert spec.allowed == ["ftpuser"]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"pasv_min_port": 50000, "pasv_max_port": 40000}, "above pasv_max_port"),
        ({"pasv_address": "ftp.example"}, "not an IPv4 address"),
        ({"extra_options": {"banner": "x\nlisten=NO"}}, "extra_options"),
        ({"tls": {"enabled": True, "cert": "-----BEGIN CERTIFICATE-----"}}, "both cert and key"),
        ({"users": [{"name": "x", "password_hash": "plaintext"}]}, "crypt"),
    ],
)
def test_bad_ftp_values_are_rejected(values, message):
    with pytest.raises(ValidationError, match=message):
        FtpData.model_validate({"ftp": values})


def web(*sites, **values):
    return WebData.model_validate({"web": {"sites": list(sites), **values}}).web


def test_nginx_static_site_with_tls_and_userdir():
    spec = web({"name": "lab", "default_server": True, "tls": {"redirect_http": True}, "userdir": True})
    site = spec.sites[0]
    config = render(
        "nginx/site.conf.j2", site=site, cert_file="/etc/nginx/tls/lab.crt", key_file="/etc/nginx/tls/lab.key"
    )
    assert "listen 443 ssl default_server;" in config
    assert "return 301 https://$host$request_uri;" in config
    assert "root /var/www/lab;" in config and "alias /home/$1/public_html$2;" in config
    assert "access_log /var/log/nginx/lab.access.log;" in config
    assert config.count("{") == config.count("}")


def test_nginx_reverse_proxy_site():
    site = web({"name": "api", "listen": 8000, "proxy_pass": "http://127.0.0.1:8080"}).sites[0]
    config = render("nginx/site.conf.j2", site=site, cert_file="x", key_file="y")
    assert "proxy_pass http://127.0.0.1:8080;" in config and "root " not in config
    assert site.upstream_hostport == ("127.0.0.1", 8080)


@pytest.mark.parametrize(
    "sites, message",
    [
        ([{"name": "a", "proxy_pass": "http://x:1", "root": "/srv"}], "reverse proxy has no root"),
        ([{"name": "a"}, {"name": "a"}], "duplicate sites"),
        ([{"name": "a", "proxy_pass": "http://x; evil"}], "proxy_pass"),
        ([{"name": "Bad Name"}], "name"),
        ([{"name": "a", "extra_directives": ["gzip on"]}], "extra_directives"),
    ],
)
def test_bad_web_values_are_rejected(sites, message):
    with pytest.raises(ValidationError, match=message):
        web(*sites)
