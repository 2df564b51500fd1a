"""The rewards pages (mounted at /rewards/ by config.urls)."""

from django.urls import path

from rewards.views import challenges, leaderboards, payroll, points, store

app_name = "rewards"

urlpatterns = [
    path("me/", points.my_points, name="my-points"),
    path("team/", points.team_points, name="team-points"),
    path("adjustments/", points.adjustment_list, name="adjustments"),
    path("agents/<int:agent_id>/", points.agent_points, name="agent-points"),
    path("payroll/", payroll.payroll, name="payroll"),
    path(
        "payroll/export.csv",
        payroll.payroll_download,
        {"file_format": "csv"},
        name="payroll-csv",
    ),
    path(
        "payroll/export.xlsx",
        payroll.payroll_download,
        {"file_format": "xlsx"},
        name="payroll-xlsx",
    ),
    path("leaderboards/", leaderboards.leaderboard_index, name="leaderboards"),
    path("leaderboards/<slug:slug>/", leaderboards.leaderboard, name="leaderboard"),
    path("wallboard/", leaderboards.wallboard, name="wallboard"),
    path("challenges/", challenges.challenge_list, name="challenges"),
    path("challenges/new/", challenges.challenge_new, name="challenge-new"),
    path("challenges/<int:challenge_id>/", challenges.challenge_detail, name="challenge"),
    path("store/", store.store, name="store"),
    path("store/redeem/", store.redeem, name="redeem"),
    path("redemptions/", store.my_redemptions, name="my-redemptions"),
    path(
        "redemptions/<int:redemption_id>/cancel/",
        store.cancel_redemption,
        name="cancel-redemption",
    ),
    path("approvals/", store.approvals, name="approvals"),
    path(
        "approvals/<int:redemption_id>/approve/",
        store.approve_redemption,
        name="approve-redemption",
    ),
    path(
        "approvals/<int:redemption_id>/reject/",
        store.reject_redemption,
        name="reject-redemption",
    ),
]
