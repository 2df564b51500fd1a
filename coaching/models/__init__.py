"""Coaching models: flags, sessions and training (one module each)."""
