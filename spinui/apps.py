from django.apps import AppConfig


class SpinuiConfig(AppConfig):
    name = "spinui"
    verbose_name = "spinui"
