"""The coaching REST API (mounted under /api/v1/coaching/ by config.urls)."""

urlpatterns: list = []
