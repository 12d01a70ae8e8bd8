"""Instrumented versions of the given kernels, staged by the grader in their place."""
