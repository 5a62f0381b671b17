"""rasa_sdk action server package: one module per action group."""
