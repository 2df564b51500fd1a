from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from config.composition import composition
        from performance.composition import DEMO_STEPS, HOME_PANELS, NAV_ENTRIES
        from performance.middleware import remember_viewer
        from performance.services.changes import evaluation_changes_deliver_on_signal
        from performance.signals import evaluations_changed

        composition.contribute(nav=NAV_ENTRIES, home=HOME_PANELS, demo=DEMO_STEPS)
        evaluations_changed.connect(
            evaluation_changes_deliver_on_signal, dispatch_uid="performance.deliver_changes"
        )
        user_logged_in.connect(remember_viewer, dispatch_uid="performance-language")
