"""Policy Q&A assistant for Beijing's 专精特新 SMEs."""
from .api import Assistant
from .models import Answer, Calculation, Citation, Clause, Hit

__all__ = ["Assistant", "Answer", "Calculation", "Citation", "Clause", "Hit"]
