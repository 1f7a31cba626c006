"""Evaluation of the assistant against Q&A sets. Imports `assistant`; never the reverse."""
