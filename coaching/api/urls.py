"""The coaching REST API (mounted under /api/v1/coaching/ by config.urls)."""

from django.urls import path

from coaching.api import flags, quality, sessions, training

urlpatterns = [
    path("flags", flags.FlagListApi.as_view(), name="api-coaching-flags"),
    path("flags/<int:flag_id>", flags.FlagDetailApi.as_view(), name="api-coaching-flag"),
    path(
        "flags/<int:flag_id>/resolve",
        flags.FlagResolveApi.as_view(),
        name="api-coaching-flag-resolve",
    ),
    path(
        "flags/<int:flag_id>/dismiss",
        flags.FlagDismissApi.as_view(),
        name="api-coaching-flag-dismiss",
    ),
    path("sessions", sessions.SessionListApi.as_view(), name="api-coaching-sessions"),
    path(
        "sessions/<int:session_id>",
        sessions.SessionDetailApi.as_view(),
        name="api-coaching-session",
    ),
    path(
        "sessions/<int:session_id>/record",
        sessions.SessionRecordApi.as_view(),
        name="api-coaching-session-record",
    ),
    path(
        "sessions/<int:session_id>/cancel",
        sessions.SessionCancelApi.as_view(),
        name="api-coaching-session-cancel",
    ),
    path(
        "sessions/<int:session_id>/acknowledge",
        sessions.SessionAcknowledgeApi.as_view(),
        name="api-coaching-session-acknowledge",
    ),
    path(
        "sessions/<int:session_id>/action-items",
        sessions.ActionItemAddApi.as_view(),
        name="api-coaching-session-items",
    ),
    path(
        "sessions/<int:session_id>/action-items/<int:item_id>/done",
        sessions.ActionItemDoneApi.as_view(),
        name="api-coaching-session-item-done",
    ),
    path("quality/forms", quality.FormListApi.as_view(), name="api-quality-forms"),
    path("quality/reviews", quality.ReviewListApi.as_view(), name="api-quality-reviews"),
    path(
        "quality/reviews/<int:review_id>",
        quality.ReviewDetailApi.as_view(),
        name="api-quality-review",
    ),
    path(
        "quality/reviews/<int:review_id>/answers",
        quality.ReviewAnswersApi.as_view(),
        name="api-quality-review-answers",
    ),
    path(
        "quality/reviews/<int:review_id>/finish",
        quality.ReviewFinishApi.as_view(),
        name="api-quality-review-finish",
    ),
    path(
        "quality/reviews/<int:review_id>/acknowledge",
        quality.ReviewAcknowledgeApi.as_view(),
        name="api-quality-review-acknowledge",
    ),
    path(
        "quality/reviews/<int:review_id>/disputes",
        quality.ReviewDisputeApi.as_view(),
        name="api-quality-review-dispute",
    ),
    path("quality/disputes", quality.DisputeListApi.as_view(), name="api-quality-disputes"),
    path("quality/plans", quality.PlanListApi.as_view(), name="api-quality-plans"),
    path("quality/queue", quality.QueueApi.as_view(), name="api-quality-queue"),
    path(
        "quality/assignments/<int:assignment_id>/review",
        quality.AssignmentReviewApi.as_view(),
        name="api-quality-assignment-review",
    ),
    path(
        "quality/disputes/<int:dispute_id>/accept",
        quality.DisputeAcceptApi.as_view(),
        name="api-quality-dispute-accept",
    ),
    path(
        "quality/disputes/<int:dispute_id>/reject",
        quality.DisputeRejectApi.as_view(),
        name="api-quality-dispute-reject",
    ),
    path("training/modules", training.ModuleListApi.as_view(), name="api-coaching-modules"),
    path(
        "training/assignments",
        training.AssignmentListApi.as_view(),
        name="api-coaching-assignments",
    ),
    path(
        "training/assignments/<int:assignment_id>",
        training.AssignmentDetailApi.as_view(),
        name="api-coaching-assignment",
    ),
    path(
        "training/assignments/<int:assignment_id>/lessons/<int:lesson_id>/done",
        training.LessonDoneApi.as_view(),
        name="api-coaching-lesson-done",
    ),
    path(
        "training/assignments/<int:assignment_id>/quiz",
        training.QuizAttemptApi.as_view(),
        name="api-coaching-quiz",
    ),
]
