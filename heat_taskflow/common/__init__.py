"""What every layer shares: the status vocabulary and the polling helper.

The bottom layer: it imports nothing else of heat_taskflow.
"""
