"""Data lifecycle (issue 25): retention rules and their daily sweep, and each
member's data to download or erase."""
