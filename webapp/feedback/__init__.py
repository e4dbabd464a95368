"""Feedback on answers: thumbs, reasons, and the Satisfaction statistics."""
