from django.contrib.auth import views as auth_views
from django.urls import path

from performance.views import feeds, heatmap, language, notifications, scorecards

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", language.language_switch, name="language-switch"),
    path("feeds/upload/", feeds.feed_upload, name="feed-upload"),
    path("feeds/batches/", feeds.batch_list, name="feed-batches"),
    path("feeds/batches/<int:batch_id>/", feeds.batch_detail, name="feed-batch"),
    path(
        "feeds/batches/<int:batch_id>/rejected.csv",
        feeds.batch_rejected_csv,
        name="feed-batch-rejected",
    ),
    path(
        "feeds/batches/<int:batch_id>/reprocess/",
        feeds.batch_reprocess,
        name="feed-batch-reprocess",
    ),
    path("me/", scorecards.my_scorecard, name="my-scorecard"),
    path("agents/<int:agent_id>/scorecard/", scorecards.agent_scorecard, name="agent-scorecard"),
    path(
        "evaluations/<int:evaluation_id>/interactions/",
        scorecards.evaluation_interactions,
        name="evaluation-interactions",
    ),
    path("teams/heatmap/", heatmap.team_heatmap, name="team-heatmap"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/count/", notifications.notification_count, name="notification-count"),
    path(
        "notifications/settings/",
        notifications.notification_settings,
        name="notification-settings",
    ),
]
