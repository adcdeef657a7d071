"""The group-data spec of the web role (``web = {...}``): sites, TLS, logs, per-user pages."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fleetops.roles.spec import AbsolutePath, CertificatePair, Strict, UnixName

SiteName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")]
ServerName = Annotated[str, StringConstraints(pattern=r"^(_|\*?[A-Za-z0-9.-]{1,253}|~\^[^\s;{}'\"]+)$")]
Upstream = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s;{}'\"]*)?$")]
Directive = Annotated[str, StringConstraints(pattern=r"^[a-z_]+( [^\n{}]*)?;$")]


class SiteTls(CertificatePair):
    """HTTPS for a site. Without ``cert``/``key`` a self-signed pair is generated on the host."""

    port: int = Field(443, ge=1, le=65535)
    redirect_http: bool = False  # plain HTTP answers 301 to https


class Site(Strict):
    """One nginx server block: a static root or a reverse proxy, with its own logs."""

    name: SiteName
    server_names: list[ServerName] = Field(default_factory=list)  # default: [name]
    listen: int = Field(80, ge=1, le=65535)
    default_server: bool = False
    root: AbsolutePath | None = None  # static root; default /var/www/<name> unless proxy_pass
    index_html: str | None = None  # content of index.html, for labs and exams
    proxy_pass: Upstream | None = None
    tls: SiteTls | None = None
    userdir: bool = False  # /~user/ serves /home/user/public_html
    userdir_users: list[UnixName] = Field(default_factory=list)  # get a public_html (labs, exams)
    extra_directives: list[Directive] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> "Site":
        if self.proxy_pass and (self.root or self.index_html is not None):
            raise ValueError(f"site {self.name}: a reverse proxy has no root or index_html")
        return self

    @property
    def names(self) -> list[str]:
        return list(self.server_names) or [self.name]

    @property
    def root_dir(self) -> str | None:
        if self.proxy_pass:
            return None
        return self.root or f"/var/www/{self.name}"

    @property
    def upstream_hostport(self) -> tuple[str, int] | None:
        """The upstream's host and port (for the 'upstream reachable' check)."""
        if not self.proxy_pass:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(self.proxy_pass)
        return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


class WebSpec(Strict):
    """nginx sites; the distribution's default site is removed unless ``keep_default_site``."""

    sites: list[Site] = Field(default_factory=list)
    keep_default_site: bool = False

    @model_validator(mode="after")
    def _unique(self) -> "WebSpec":
        names = [site.name for site in self.sites]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"duplicate sites: {', '.join(dupes)}")
        defaults = [site for site in self.sites if site.default_server]
        ports = [site.listen for site in defaults]
        if len(ports) != len(set(ports)):
            raise ValueError("two sites are default_server on the same port")
        return self


class WebData(BaseModel):
    """The host-data key the web role reads."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    web: WebSpec = WebSpec()
