from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from coaching.signals import training_completed
        from config.composition import composition
        from performance.signals import evaluation_changes_subscribe
        from rewards.composition import DEMO_STEPS, HOME_PANELS, NAV_ENTRIES
        from rewards.db import register_sqlite_guard
        from rewards.services.changes import CHANGE_SUBSCRIBER, rewards_apply_evaluation_change
        from rewards.services.training import training_completed_received

        connection_created.connect(register_sqlite_guard, dispatch_uid="rewards.sqlite_guard")
        training_completed.connect(
            training_completed_received, dispatch_uid="rewards.training_completed"
        )
        composition.contribute(nav=NAV_ENTRIES, home=HOME_PANELS, demo=DEMO_STEPS)
        evaluation_changes_subscribe(
            name=CHANGE_SUBSCRIBER, handler=rewards_apply_evaluation_change
        )
