"""Staff console: unanswered questions, conversation review and answer cards, under /staff."""
