"""Coaching models: flags, sessions and training (one module each)."""

from coaching.models.flags import CoachingFlag, FlagEvidence, FlagRequest
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
    "Question",
    "QuizAttempt",
    "SessionSeries",
    "TrainingAssignment",
    "TrainingModule",
]
