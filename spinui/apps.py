from django.apps import AppConfig


class SpinuiConfig(AppConfig):
    name = "spinui"
    verbose_name = "spinui"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from spinui.audit import login_failed

        user_login_failed.connect(login_failed, dispatch_uid="spinui.audit.login_failed")
