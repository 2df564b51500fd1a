from django.contrib.auth import views as auth_views
from django.urls import path

from performance import views, views_scorecards

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("feeds/upload/", views.feed_upload, name="feed-upload"),
    path("feeds/batches/", views.batch_list, name="feed-batches"),
    path("feeds/batches/<int:batch_id>/", views.batch_detail, name="feed-batch"),
    path(
        "feeds/batches/<int:batch_id>/rejected.csv",
        views.batch_rejected_csv,
        name="feed-batch-rejected",
    ),
    path(
        "feeds/batches/<int:batch_id>/reprocess/",
        views.batch_reprocess,
        name="feed-batch-reprocess",
    ),
    path("me/", views_scorecards.my_scorecard, name="my-scorecard"),
    path(
        "agents/<int:agent_id>/scorecard/",
        views_scorecards.agent_scorecard,
        name="agent-scorecard",
    ),
    path(
        "evaluations/<int:evaluation_id>/interactions/",
        views_scorecards.evaluation_interactions,
        name="evaluation-interactions",
    ),
    path("teams/heatmap/", views_scorecards.team_heatmap, name="team-heatmap"),
]
