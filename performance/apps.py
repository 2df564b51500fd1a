from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from performance.middleware import remember_viewer

        user_logged_in.connect(remember_viewer, dispatch_uid="performance-language")
