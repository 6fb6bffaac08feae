"""Jira Cloud and Data Center connector for linesight."""
