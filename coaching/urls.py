"""The coaching pages (mounted at /coaching/ by config.urls)."""

app_name = "coaching"

urlpatterns: list = []
