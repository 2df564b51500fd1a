"""The rewards pages (mounted at /rewards/ by config.urls)."""

from django.urls import path

from rewards.views import leaderboards, points

app_name = "rewards"

urlpatterns = [
    path("me/", points.my_points, name="my-points"),
    path("team/", points.team_points, name="team-points"),
    path("adjustments/", points.adjustment_list, name="adjustments"),
    path("agents/<int:agent_id>/", points.agent_points, name="agent-points"),
    path("leaderboards/", leaderboards.leaderboard_index, name="leaderboards"),
    path("leaderboards/<slug:slug>/", leaderboards.leaderboard, name="leaderboard"),
    path("wallboard/", leaderboards.wallboard, name="wallboard"),
]
