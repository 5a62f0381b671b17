"""Our Rasa-side package: Vietnamese text handling, NLU components, channel connectors."""
