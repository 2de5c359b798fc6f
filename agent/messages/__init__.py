"""Secure messages between the practice and its patients (threads, replies, attachments)."""
