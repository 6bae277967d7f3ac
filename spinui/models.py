import hashlib
import secrets
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from spinui.crypto import EncryptedTextField

# DESIGN.md "Names": a dash separates the parts of a server group name, so an application
# name has none; account and region names become Marathon id segments.
application_name = RegexValidator(
    r"\A[a-z0-9]+\Z",
    "Use lowercase letters and digits only: a dash would be read as the stack separator "
    "in server group names.",
)
account_name = RegexValidator(
    r"\A[a-z0-9]+(-+[a-z0-9]+)*\Z",
    "Use lowercase letters, digits and dashes, starting and ending with a letter or digit.",
)


class ApplicationQuerySet(models.QuerySet):
    def search(self, query: str) -> "ApplicationQuerySet":
        if not query:
            return self
        return self.filter(
            models.Q(name__icontains=query)
            | models.Q(description__icontains=query)
            | models.Q(email__icontains=query)
        )


class Application(models.Model):
    name = models.CharField(max_length=63, unique=True, validators=[application_name])
    description = models.TextField(blank=True)
    email = models.EmailField("owner email")
    # Gate's further application attributes (repoType, cloudProviders, …), kept as given.
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        default_permissions = ("add",)
        permissions = [
            ("read_application", "See the application"),
            ("write_application", "Change the application's config and infrastructure"),
            ("execute_application", "Run pipelines and judge"),
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A deployment target (Spinnaker's account); its regions are DC/OS clusters."""

    PROVIDERS = [("dcos", "DC/OS")]

    name = models.CharField(max_length=63, unique=True, validators=[account_name])
    environment = models.CharField(max_length=63, validators=[account_name])
    provider = models.CharField(max_length=16, choices=PROVIDERS, default="dcos")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ()
        permissions = [
            ("read_account", "See the account"),
            ("write_account", "Deploy into the account"),
        ]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """One DC/OS cluster of an account, reached through its admin router."""

    AUTH_NONE = "none"
    AUTH_TOKEN = "token"
    AUTH_PASSWORD = "password"
    AUTH_SERVICE_ACCOUNT = "service_account"
    AUTH_TYPES = [
        (AUTH_NONE, "None (auth disabled)"),
        (AUTH_TOKEN, "Static token (open-source DC/OS)"),
        (AUTH_PASSWORD, "User and password"),
        (AUTH_SERVICE_ACCOUNT, "Service account (uid and private key)"),
    ]

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="regions")
    name = models.CharField(max_length=63, validators=[account_name])
    url = models.URLField("URL", help_text="The cluster's admin router, e.g. https://dcos.example")
    marathon_path = models.CharField(max_length=200, default="/service/marathon")
    metronome_path = models.CharField(max_length=200, default="/service/metronome")
    ca_certificate = models.TextField("CA certificate (PEM)", blank=True)
    skip_tls_verify = models.BooleanField("skip TLS verification", default=False)
    auth_type = models.CharField(max_length=20, choices=AUTH_TYPES, default=AUTH_NONE)
    uid = models.CharField("user or service account id", max_length=200, blank=True)
    # The token, the password or the service account's PEM private key, per auth_type.
    secret = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account__name", "name"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="region_unique_in_account")
        ]

    def __str__(self) -> str:
        return f"{self.account.name}/{self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for path in ("marathon_path", "metronome_path"):
            if not getattr(self, path).startswith("/"):
                errors[path] = "Start the path with '/'."
        if self.auth_type in (self.AUTH_PASSWORD, self.AUTH_SERVICE_ACCOUNT) and not self.uid:
            errors["uid"] = "This auth type needs a uid."
        if self.auth_type != self.AUTH_NONE and not self.secret:
            errors["secret"] = {
                self.AUTH_TOKEN: "Give the token.",
                self.AUTH_PASSWORD: "Give the password.",
                self.AUTH_SERVICE_ACCOUNT: "Give the service account's PEM private key.",
            }[self.auth_type]
        if self.auth_type == self.AUTH_SERVICE_ACCOUNT and self.secret:
            try:
                key = load_pem_private_key(self.secret.encode(), password=None)
            except (ValueError, TypeError):
                key = None
            if not isinstance(key, RSAPrivateKey):
                errors["secret"] = "Give an unencrypted RSA private key in PEM format."
        if errors:
            raise ValidationError(errors)


class DockerRegistry(models.Model):
    """Spinnaker's dockerRegistry account: where images come from and triggers watch."""

    name = models.CharField(max_length=63, unique=True, validators=[account_name])
    address = models.URLField(help_text="e.g. https://index.docker.io or http://127.0.0.1:5000")
    username = models.CharField(max_length=200, blank=True)
    # The password for username, or a bearer token when there is no username.
    password = EncryptedTextField("password or token", blank=True)
    email = models.EmailField(blank=True)
    repositories = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ()
        verbose_name_plural = "docker registries"

    def __str__(self) -> str:
        return self.name


class AuditEntry(models.Model):
    """Who changed what, when; secrets appear only as set/replaced, never as values."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40)
    target_name = models.CharField(max_length=255)
    # Kept as a name, so the history of a deleted application stays readable.
    application = models.CharField(max_length=63, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ()
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target_name}"


class ApiTokenQuerySet(models.QuerySet):
    def for_key(self, key: str) -> "ApiToken | None":
        return (
            self.select_related("user")
            .filter(key_hash=ApiToken.hash(key), user__is_active=True)
            .first()
        )


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "spin_" + secrets.token_urlsafe(32)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


# The infrastructure cache: what Marathon last said, per region. Pages and the API read only
# this; spinui/infrastructure.py is the one place that writes it.


class RegionStatus(models.Model):
    """When a region was last read, and why the last read failed if it did."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="status")
    # When the newest read that reached the table started: an older read never overwrites it.
    read_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        verbose_name_plural = "region statuses"

    def __str__(self) -> str:
        return f"{self.region}: {'unreachable' if self.error else 'ok'}"

    @property
    def reachable(self) -> bool:
        return not self.error


class ServerGroupQuerySet(models.QuerySet):
    def for_application(self, application: str) -> "ServerGroupQuerySet":
        return self.filter(application=application)

    def newest_first(self) -> "ServerGroupQuerySet":
        return self.order_by(
            "account_name",
            "cluster",
            "region_name",
            models.F("last_config_change_at").desc(nulls_last=True),
            models.F("sequence").desc(nulls_last=True),
        )


class ServerGroup(models.Model):
    """A Marathon app under /<account>/ of one region, as last read."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="server_groups")
    account_name = models.CharField(max_length=63)
    # "" for an app whose name is not a server group name (shown, never touched).
    application = models.CharField(max_length=63, db_index=True)
    cluster = models.CharField(max_length=200)
    stack = models.CharField(max_length=63, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    sequence = models.IntegerField(null=True, blank=True)
    name = models.CharField(max_length=200)
    # Spinnaker's region: the DC/OS cluster, then the Marathon groups below the account.
    region_name = models.CharField(max_length=200)
    marathon_id = models.CharField(max_length=500)
    managed = models.BooleanField(default=True)
    image = models.CharField(max_length=500, blank=True)
    instances = models.IntegerField(default=0)
    tasks_running = models.IntegerField(default=0)
    tasks_healthy = models.IntegerField(default=0)
    tasks_unhealthy = models.IntegerField(default=0)
    tasks_staged = models.IntegerField(default=0)
    cpus = models.FloatField(default=0)
    mem = models.FloatField(default=0)
    disk = models.FloatField(default=0)
    gpus = models.FloatField(default=0)
    disabled = models.BooleanField(default=False)
    deployment_ids = models.JSONField(default=list, blank=True)
    version = models.CharField(max_length=40, blank=True)
    last_config_change_at = models.DateTimeField(null=True, blank=True)
    # Counts per health (Up, Down, Starting, Unknown, …) and one square per instance:
    # the clusters page reads these instead of the instance rows.
    health_counts = models.JSONField(default=dict, blank=True)
    instance_squares = models.JSONField(default=list, blank=True)
    last_task_failure = models.JSONField(null=True, blank=True)
    # The app definition with secret values replaced (spinui.infrastructure.without_secrets).
    definition = models.JSONField(default=dict, blank=True)
    digest = models.CharField(max_length=64)
    read_at = models.DateTimeField()
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ServerGroupQuerySet.as_manager()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["region", "marathon_id"], name="server_group_unique_in_region"
            )
        ]
        indexes = [models.Index(fields=["application", "account_name", "cluster"])]

    def __str__(self) -> str:
        return f"{self.account_name}/{self.region_name}/{self.name}"

    @property
    def deploying(self) -> bool:
        return bool(self.deployment_ids)

    @property
    def image_tag(self) -> str:
        _, _, last = self.image.rpartition("/")
        return last.rpartition(":")[2] if ":" in last else ("latest" if self.image else "")


class Instance(models.Model):
    """A Marathon task of a server group, as last read."""

    server_group = models.ForeignKey(
        ServerGroup, on_delete=models.CASCADE, related_name="instance_rows"
    )
    task_id = models.CharField(max_length=300)
    state = models.CharField(max_length=40)
    health = models.CharField(max_length=20)
    host = models.CharField(max_length=255, blank=True)
    ports = models.JSONField(default=list, blank=True)
    ip_addresses = models.JSONField(default=list, blank=True)
    version = models.CharField(max_length=40, blank=True)
    staged_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    health_checks = models.JSONField(default=list, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["started_at", "task_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["server_group", "task_id"], name="instance_unique_in_server_group"
            )
        ]
        indexes = [models.Index(fields=["task_id"])]

    def __str__(self) -> str:
        return self.task_id
