from django.db import migrations

GROUPS = ("Agent", "Team Lead", "Admin")
CHANNELS = (
    ("phone", "Phone"),
    ("email", "E-mail"),
    ("chat", "Chat"),
    ("social", "Social"),
    ("messaging", "Messaging"),
)


def create_groups_and_channels(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Channel = apps.get_model("performance", "Channel")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)
    for code, name in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [
        ("performance", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups_and_channels, migrations.RunPython.noop)]
