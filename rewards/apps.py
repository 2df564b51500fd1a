from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from config.composition import composition
        from performance.signals import evaluation_changes_subscribe
        from rewards.composition import DEMO_STEPS, HOME_PANELS, NAV_ENTRIES
        from rewards.db import register_sqlite_guard
        from rewards.services.changes import rewards_apply_evaluation_change

        connection_created.connect(register_sqlite_guard, dispatch_uid="rewards.sqlite_guard")
        composition.contribute(nav=NAV_ENTRIES, home=HOME_PANELS, demo=DEMO_STEPS)
        evaluation_changes_subscribe(name="rewards", handler=rewards_apply_evaluation_change)
