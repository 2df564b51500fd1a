"""The rewards REST API (mounted under /api/v1/rewards/ by config.urls)."""

urlpatterns: list = []
