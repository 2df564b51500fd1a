"""The coaching pages (mounted at /coaching/ by config.urls)."""

from django.urls import path

from coaching.views import flags, quality, sessions, training

app_name = "coaching"

urlpatterns = [
    path("queue/", flags.queue, name="queue"),
    path("me/", flags.my_coaching, name="me"),
    path("flags/new/", flags.flag_open, name="flag-open"),
    path("flags/<int:flag_id>/", flags.flag_detail, name="flag"),
    path("flags/<int:flag_id>/resolve/", flags.flag_resolve_view, name="flag-resolve"),
    path("flags/<int:flag_id>/dismiss/", flags.flag_dismiss_view, name="flag-dismiss"),
    path("training/", training.my_training, name="training"),
    path("training/team/", training.team_training, name="team-training"),
    path("training/assign/", training.training_assign_view, name="training-assign"),
    path("training/<int:assignment_id>/", training.assignment_detail, name="assignment"),
    path(
        "training/<int:assignment_id>/lessons/<int:lesson_id>/done/",
        training.lesson_done_view,
        name="lesson-done",
    ),
    path("training/<int:assignment_id>/quiz/", training.quiz_submit_view, name="quiz"),
    path(
        "training/modules/<int:module_id>/preview/",
        training.module_preview,
        name="module-preview",
    ),
    path("quality/", quality.monitoring, name="quality"),
    path("quality/mine/", quality.my_reviews, name="my-reviews"),
    path("quality/reviews/new/", quality.review_start_view, name="review-start"),
    path("quality/plans/", quality.plans_progress, name="quality-plans"),
    path("quality/reports/", quality.quality_reports, name="quality-reports"),
    path(
        "quality/reports/reviews.<str:file_format>",
        quality.quality_reports_export,
        name="quality-reports-export",
    ),
    path("quality/calibrations/", quality.calibrations, name="calibrations"),
    path(
        "quality/calibrations/alignment/",
        quality.calibration_alignment_page,
        name="calibration-alignment",
    ),
    path(
        "quality/calibrations/<int:calibration_id>/",
        quality.calibration_detail,
        name="calibration",
    ),
    path(
        "quality/assignments/<int:assignment_id>/review/",
        quality.assignment_review_view,
        name="assignment-review",
    ),
    path("quality/reviews/<int:review_id>/", quality.review_detail, name="review"),
    path(
        "quality/reviews/<int:review_id>/acknowledge/",
        quality.review_acknowledge_view,
        name="review-acknowledge",
    ),
    path(
        "quality/reviews/<int:review_id>/dispute/",
        quality.review_dispute_view,
        name="review-dispute",
    ),
    path(
        "quality/disputes/<int:dispute_id>/decide/",
        quality.dispute_decide_view,
        name="dispute-decide",
    ),
    path("quality/forms/<int:form_id>/preview/", quality.qa_form_preview, name="qa-form-preview"),
    path("sessions/", sessions.session_list, name="sessions"),
    path("sessions/new/", sessions.session_new, name="session-new"),
    path("sessions/effectiveness/", sessions.effectiveness, name="effectiveness"),
    path("sessions/<int:session_id>/", sessions.session_detail, name="session"),
    path("sessions/<int:session_id>/record/", sessions.session_record_view, name="session-record"),
    path("sessions/<int:session_id>/move/", sessions.session_move_view, name="session-move"),
    path("sessions/<int:session_id>/cancel/", sessions.session_cancel_view, name="session-cancel"),
    path(
        "sessions/<int:session_id>/acknowledge/",
        sessions.session_acknowledge_view,
        name="session-acknowledge",
    ),
    path("sessions/<int:session_id>/items/", sessions.action_item_add_view, name="item-add"),
    path("sessions/<int:session_id>/series/stop/", sessions.series_stop_view, name="series-stop"),
    path(
        "sessions/<int:session_id>/items/<int:item_id>/done/",
        sessions.action_item_done_view,
        name="item-done",
    ),
    path(
        "sessions/<int:session_id>/invitation.ics",
        sessions.session_invitation,
        name="session-invitation",
    ),
]
