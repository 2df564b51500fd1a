"""Coaching models: flags, sessions, training and quality monitoring (one module each)."""

from coaching.models.flags import CoachingFlag, FlagEvidence, FlagRequest
from coaching.models.quality import (
    QAAnswer,
    QAAssignment,
    QACalibration,
    QADispute,
    QAForm,
    QAFormVersion,
    QAItem,
    QAPlan,
    QAPlanChannel,
    QAReview,
    QASection,
)
from coaching.models.sessions import ActionItem, CoachingSession, SessionSeries
from coaching.models.training import (
    Choice,
    Lesson,
    LessonDone,
    Question,
    QuizAttempt,
    TrainingAssignment,
    TrainingModule,
)

__all__ = [
    "ActionItem",
    "Choice",
    "CoachingFlag",
    "CoachingSession",
    "FlagEvidence",
    "FlagRequest",
    "Lesson",
    "LessonDone",
    "QAAnswer",
    "QAAssignment",
    "QACalibration",
    "QADispute",
    "QAForm",
    "QAFormVersion",
    "QAItem",
    "QAPlan",
    "QAPlanChannel",
    "QAReview",
    "QASection",
    "Question",
    "QuizAttempt",
    "SessionSeries",
    "TrainingAssignment",
    "TrainingModule",
]
