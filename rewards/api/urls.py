"""The rewards REST API (mounted under /api/v1/rewards/ by config.urls)."""

from django.urls import path

from rewards.api import badges, challenges, leaderboards, payroll, points, store

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
    path("agents/<int:agent_id>/badges", badges.AgentBadgesApi.as_view(), name="api-agent-badges"),
    path("payroll", payroll.PayrollApi.as_view(), name="api-payroll"),
    path("leaderboards", leaderboards.LeaderboardListApi.as_view(), name="api-leaderboards"),
    path("leaderboards/<slug:slug>", leaderboards.LeaderboardApi.as_view(), name="api-leaderboard"),
    path("challenges", challenges.ChallengeListApi.as_view(), name="api-challenges"),
    path("challenges/<int:challenge_id>", challenges.ChallengeApi.as_view(), name="api-challenge"),
    path("store/items", store.StoreItemListApi.as_view(), name="api-store-items"),
    path("redemptions", store.RedemptionListApi.as_view(), name="api-redemptions"),
    path(
        "redemptions/<int:redemption_id>/approve",
        store.RedemptionApproveApi.as_view(),
        name="api-redemption-approve",
    ),
    path(
        "redemptions/<int:redemption_id>/reject",
        store.RedemptionRejectApi.as_view(),
        name="api-redemption-reject",
    ),
    path(
        "redemptions/<int:redemption_id>/cancel",
        store.RedemptionCancelApi.as_view(),
        name="api-redemption-cancel",
    ),
]
