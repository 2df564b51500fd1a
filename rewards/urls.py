"""The rewards pages (mounted at /rewards/ by config.urls)."""

app_name = "rewards"

urlpatterns: list = []
