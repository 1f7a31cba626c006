"""Policy Q&A assistant for Beijing's 专精特新 SMEs."""
from assistant.api import Assistant
from assistant.models import Answer, Calculation, Citation, Clause, Hit

__all__ = ["Assistant", "Answer", "Calculation", "Citation", "Clause", "Hit"]
