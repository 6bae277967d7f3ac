"""The DC/OS provider: Marathon and Metronome over HTTP, plain Python, no Django.

It takes a RegionConfig and returns dataclasses; spinui maps those to its cache.
"""
