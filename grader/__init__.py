"""An automated grader for exercises in Python multithreading and multiprocessing."""

__version__ = "0.1.0"
