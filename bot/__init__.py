"""Handledarbot's platform-free core: knowledge base, matching, replies, reminders."""
