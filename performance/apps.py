from __future__ import annotations

from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = "Performance"

    def ready(self) -> None:
        from config.composition import composition
        from performance.composition import DEMO_STEPS, HOME_PANELS, NAV_ENTRIES
        from performance.services.changes import evaluation_changes_deliver_on_signal
        from performance.signals import evaluations_changed

        composition.contribute(nav=NAV_ENTRIES, home=HOME_PANELS, demo=DEMO_STEPS)
        evaluations_changed.connect(
            evaluation_changes_deliver_on_signal, dispatch_uid="performance.deliver_changes"
        )
