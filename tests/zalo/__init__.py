"""Tests for the Zalo OA channel."""
