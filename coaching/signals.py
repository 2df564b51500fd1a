"""What coaching publishes: `training_completed(assignment_id=...)`, sent after the commit
that completed an assignment. Rewards turns it into points; the completed assignments
themselves are the durable record, so a subscriber that missed the signal catches up."""

from django.dispatch import Signal

training_completed = Signal()
