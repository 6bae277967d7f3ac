from django import forms
from django.contrib.auth.models import Group, User
from django.db import models

from spinui.models import Account, Application, DockerRegistry, Region
from spinui.traffic_guards import KEYS, describe, guards_of


class ApplicationForm(forms.ModelForm):
    traffic_guards = forms.CharField(
        label="Traffic guards",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "prod/*/web/-"}),
        help_text=(
            "One per line: account/region/stack/detail, * for any, - for none; add "
            '"disabled" after a space to keep a guard but turn it off. An operation that '
            "would leave a guarded cluster with no Up instances in a region is refused."
        ),
    )

    class Meta:
        model = Application
        fields = ["name", "email", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Server group names carry it: renaming would orphan every deployment.
            self.fields["name"].disabled = True
        self.fields["traffic_guards"].initial = "\n".join(
            describe(guard) + ("" if guard.get("enabled", True) else " disabled")
            for guard in guards_of(self.instance)
        )

    def clean_traffic_guards(self) -> list[dict]:
        guards = []
        for number, line in enumerate(self.cleaned_data["traffic_guards"].splitlines(), 1):
            words = line.split()
            if not words:
                continue
            parts = words[0].split("/")
            if len(parts) != 4 or len(words) > 2 or words[1:] not in ([], ["disabled"]):
                raise forms.ValidationError(
                    f"Line {number}: write account/region/stack/detail, e.g. prod/*/web/-."
                )
            guard = dict(zip(KEYS, ("" if p == "-" else p for p in parts), strict=True))
            if not guard["account"] or not guard["location"]:
                raise forms.ValidationError(f"Line {number}: give the account and region (or *).")
            guards.append({**guard, "enabled": words[1:] != ["disabled"]})
        return guards

    def clean(self) -> dict:
        cleaned = super().clean()
        if "traffic_guards" in cleaned:
            attributes = dict(self.instance.attributes or {})
            if cleaned["traffic_guards"]:
                attributes["trafficGuards"] = cleaned["traffic_guards"]
            else:
                attributes.pop("trafficGuards", None)
            self.instance.attributes = attributes
        return cleaned


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["name", "environment", "provider", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True


def _formfield(field: models.Field, **kwargs) -> forms.Field:
    # Django 6 assumes https for URLs typed without a scheme; so do we, already.
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class SecretReplacingForm(forms.ModelForm):
    """A secret is never shown back: the field is empty, and empty keeps the stored one."""

    secret_field: str

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields[self.secret_field]
        field.required = False
        self.initial[self.secret_field] = ""
        if self.instance.pk and getattr(self.instance, self.secret_field):
            field.label = f"Replace {field.label.lower()}"
            field.help_text = "Stored and hidden. Leave empty to keep it."

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get(self.secret_field) and self.instance.pk:
            cleaned[self.secret_field] = getattr(self.instance, self.secret_field)
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()
        # Model errors on the secret must never echo it back into the form.
        self.data = self.data.copy()
        self.data[self.add_prefix(self.secret_field)] = ""


class RegionForm(SecretReplacingForm):
    secret_field = "secret"

    class Meta:
        model = Region
        formfield_callback = _formfield
        fields = [
            "name",
            "url",
            "marathon_path",
            "metronome_path",
            "auth_type",
            "uid",
            "secret",
            "ca_certificate",
            "skip_tls_verify",
        ]
        widgets = {
            "secret": forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
            "ca_certificate": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"secret": "Token, password or private key"}

    def __init__(self, *args, account: Account, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.account = account
        if self.instance.pk:
            self.fields["name"].disabled = True


class DockerRegistryForm(SecretReplacingForm):
    secret_field = "password"
    repositories = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One repository per line, e.g. spinui/hello",
    )

    class Meta:
        model = DockerRegistry
        formfield_callback = _formfield
        fields = ["name", "address", "username", "password", "email", "repositories"]
        widgets = {"password": forms.PasswordInput(render_value=False)}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True
            self.initial["repositories"] = "\n".join(self.instance.repositories)

    def clean_repositories(self) -> list[str]:
        lines = self.cleaned_data["repositories"].splitlines()
        return [line.strip() for line in lines if line.strip()]


class RoleForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    can_create_applications = forms.BooleanField(required=False)

    class Meta:
        model = Group
        fields = ["name"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["members"] = list(self.instance.user_set.all())
            self.initial["can_create_applications"] = self.instance.permissions.filter(
                codename="add_application"
            ).exists()


class UserForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave empty to keep the current password.",
    )

    class Meta:
        model = User
        fields = ["username", "email", "is_superuser", "is_active"]
        labels = {"is_superuser": "Admin (may do everything)"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""
