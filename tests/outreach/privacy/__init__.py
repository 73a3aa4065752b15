"""Tests of outreach.privacy."""
