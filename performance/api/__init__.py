"""The REST API under /api/v1/, by concern; routes in api.urls."""
