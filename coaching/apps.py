from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = _("Coaching")

    def ready(self) -> None:
        from coaching.composition import DEMO_STEPS, HOME_PANELS, NAV_ENTRIES
        from coaching.services.flags import flags_apply_evaluation_change
        from config.composition import composition
        from performance.signals import evaluation_changes_subscribe

        composition.contribute(nav=NAV_ENTRIES, home=HOME_PANELS, demo=DEMO_STEPS)
        evaluation_changes_subscribe(name="coaching", handler=flags_apply_evaluation_change)
