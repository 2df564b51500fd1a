from __future__ import annotations

from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = "Performance"

    def ready(self) -> None:
        from performance.services.changes import evaluation_changes_deliver_on_signal
        from performance.signals import evaluations_changed

        evaluations_changed.connect(
            evaluation_changes_deliver_on_signal, dispatch_uid="performance.deliver_changes"
        )
