"""Runnable examples of the stepline SDK."""
