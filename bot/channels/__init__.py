"""Custom Rasa input/output channels (Zalo Official Account)."""
