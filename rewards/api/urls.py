"""The rewards REST API (mounted under /api/v1/rewards/ by config.urls)."""

from django.urls import path

from rewards.api import leaderboards, points

urlpatterns = [
    path(
        "agents/<int:agent_id>/balance",
        points.AgentBalanceApi.as_view(),
        name="api-agent-points-balance",
    ),
    path(
        "agents/<int:agent_id>/points",
        points.AgentPointsHistoryApi.as_view(),
        name="api-agent-points-history",
    ),
    path("leaderboards", leaderboards.LeaderboardListApi.as_view(), name="api-leaderboards"),
    path("leaderboards/<slug:slug>", leaderboards.LeaderboardApi.as_view(), name="api-leaderboard"),
]
