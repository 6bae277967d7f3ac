from dataclasses import dataclass, field

AUTH_NONE = "none"
AUTH_TOKEN = "token"
AUTH_PASSWORD = "password"
AUTH_SERVICE_ACCOUNT = "service_account"


@dataclass(frozen=True)
class RegionConfig:
    """One DC/OS cluster of an account, as the provider needs it (built from spinui's Region)."""

    account: str
    cluster: str
    url: str
    marathon_path: str = "/service/marathon"
    metronome_path: str = "/service/metronome"
    ca_certificate: str = ""
    skip_tls_verify: bool = False
    auth_type: str = AUTH_NONE
    uid: str = ""
    # The token, password or PEM private key, per auth_type; never printed.
    secret: str = field(default="", repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    retries: int = 2
    backoff: float = 0.2

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")
